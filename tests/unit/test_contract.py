"""The event contract: envelope, bounded fields, deterministic ids, documents in sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.contract import EVENTS, INBOUND, PRODUCED, derived_id, event_model
from shared.contract.docs import ROOT, documents
from shared.contract.registration import RegistrationRequested, RegistrationRequestedData
from shared.publishing import build_event

DATA = {
    "email": "agent@cc-exemple.fr",
    "first_name": "Camille",
    "last_name": "Martin",
    "role": "charge_de_mission",
    "organisation": "CC Exemple",
    "territory": "Exemple",
    "approach": "PAT",
    "consent": True,
}


def envelope(**overrides):
    base = {
        "specversion": "1.0",
        "id": "e1",
        "type": "registration_requested",
        "source": "urn:test",
        "time": "2026-01-01T10:00:00+01:00",
        "data": dict(DATA),
    }
    base.update(overrides)
    return base


def test_every_event_type_is_its_own_topic_name_and_model():
    assert len(EVENTS) == len(INBOUND) + len(PRODUCED) == 55
    for event_type, model in EVENTS.items():
        assert model.event_type == event_type
        assert model.model_json_schema()["properties"]["type"]["const"] == event_type


def test_a_valid_cloudevent_round_trips_through_json():
    event = RegistrationRequested.model_validate(envelope())
    again = RegistrationRequested.model_validate_json(event.to_json())
    assert again == event
    assert event.data.email == "agent@cc-exemple.fr"


def test_an_event_of_another_type_is_refused():
    with pytest.raises(ValidationError, match="registration_requested"):
        RegistrationRequested.model_validate(envelope(type="topic_proposed"))


def test_a_naive_time_is_refused():
    with pytest.raises(ValidationError, match="timezone"):
        RegistrationRequested.model_validate(envelope(time="2026-01-01T10:00:00"))


@pytest.mark.parametrize("name", ["Camille\r\nBcc: victim@example.org", "Ca\nmille", "Ca\x00mille"])
def test_control_characters_in_a_name_are_refused(name):
    with pytest.raises(ValidationError, match="single line"):
        RegistrationRequested.model_validate(envelope(data={**DATA, "first_name": name}))


def test_overlong_strings_are_refused_with_the_field_named():
    with pytest.raises(ValidationError) as error:
        RegistrationRequested.model_validate(envelope(data={**DATA, "organisation": "x" * 201}))
    assert "data.organisation" in str(error.value)
    assert "at most 200" in str(error.value)


def test_unknown_data_fields_are_ignored_never_kept():
    event = RegistrationRequested.model_validate(envelope(data={**DATA, "phone": "0600000000"}))
    assert "phone" not in event.data.model_dump()
    assert b"0600000000" not in event.to_json()


def test_extension_attributes_are_kept_and_invalid_ones_dropped_never_refused():
    event = RegistrationRequested.model_validate(
        envelope(traceparent="00-abc-def-01", **{"Bad-Name": "x", "big": "y" * 600})
    )
    assert event.model_extra == {"traceparent": "00-abc-def-01"}


def test_time_and_datacontenttype_are_optional():
    bare = envelope()
    del bare["time"]
    event = RegistrationRequested.model_validate(bare)
    assert event.time.tzinfo is not None
    assert event.datacontenttype == "application/json"
    with_charset = RegistrationRequested.model_validate(
        envelope(datacontenttype="application/json; charset=utf-8")
    )
    assert with_charset.datacontenttype.startswith("application/json")
    with pytest.raises(ValidationError, match="datacontenttype"):
        RegistrationRequested.model_validate(envelope(datacontenttype="text/xml"))


def test_consent_must_be_a_real_boolean():
    with pytest.raises(ValidationError, match="consent"):
        RegistrationRequested.model_validate(envelope(data={**DATA, "consent": "yes"}))


def test_html_in_a_name_is_data_not_an_error():
    event = RegistrationRequested.model_validate(
        envelope(data={**DATA, "last_name": "<b>Martin</b>"})
    )
    assert event.data.last_name == "<b>Martin</b>"


def test_derived_ids_are_deterministic_and_distinct():
    assert derived_id("c1", "member_registered") == derived_id("c1", "member_registered")
    assert derived_id("c1", "member_registered") != derived_id("c2", "member_registered")
    assert derived_id("c1", "member_registered") != derived_id("c1", "registration_rejected")
    assert derived_id("c1", "x", "a@b") != derived_id("c1", "x", "c@d")


def test_create_with_a_cause_gives_the_same_id_twice():
    data = RegistrationRequestedData.model_validate(DATA)
    first = RegistrationRequested.create(data, source="urn:t", cause_id="cause")
    second = RegistrationRequested.create(data, source="urn:t", cause_id="cause")
    assert first.id == second.id
    assert first.time.tzinfo is not None


def test_the_cli_builds_a_whole_envelope_from_data_only():
    event = build_event("registration_requested", dict(DATA))
    assert event.subject == "agent@cc-exemple.fr"
    assert event.time <= datetime.now(UTC)


def test_the_cli_refuses_an_unknown_type_naming_the_known_ones():
    with pytest.raises(KeyError, match="registration_requested"):
        event_model("registration_requestd")


def test_committed_contract_documents_match_the_code():
    expected = documents()
    drifted = [
        name
        for name, text in expected.items()
        if not (ROOT / name).exists() or (ROOT / name).read_text(encoding="utf-8") != text
    ]
    committed = {f"{p.parent.name}/{p.name}" for p in ROOT.glob("*/*")}
    stale = sorted(committed - set(expected))
    hint = "run `python -m shared.contract.docs` and commit docs/contract/"
    assert not drifted, f"contract documents drifted: {drifted}; {hint}"
    assert not stale, f"stale contract documents: {stale}; {hint}"


def test_json_schemas_are_valid_json_with_ids():
    for name, text in documents().items():
        if name.startswith("schemas/"):
            schema = json.loads(text)
            assert schema["$id"].endswith(name.removeprefix("schemas/"))
