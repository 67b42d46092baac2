"""Pure rules of registration: eligibility, addresses, places and the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.registration.domain import (
    Applicant,
    Place,
    Refusal,
    SessionView,
    normalise_approach,
    normalise_role,
    place_for,
    promotions,
    screen_registration,
    signup_refusal,
)
from shared.identity import EmailAddress

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def screen(**overrides):
    request: dict[str, Any] = {
        "email": "camille.martin@cc-exemple.fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "role": "charge_de_mission",
        "approach": "PAT",
        "consent": True,
    }
    request.update(overrides)
    return screen_registration(**request)


# --- eligibility ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        "charge_de_mission",
        "Chargée de mission",
        "chargé de mission",
        "CHARGÉE DE MISSION",
        "Chargé(e) de mission",
        "chargé·e de mission",
        "Chargées de mission",
        "chargée de mission PAT",
        "  charge-de-mission  ",
    ],
)
def test_usual_spellings_of_charge_de_mission_are_recognised(role):
    assert normalise_role(role) == "charge_de_mission"


@pytest.mark.parametrize(
    "role",
    [
        "chef_de_projet",
        "Chef de projet",
        "cheffe de projet",
        "Chef·fe de projet",
        "chef de projets",
    ],
)
def test_usual_spellings_of_chef_de_projet_are_recognised(role):
    assert normalise_role(role) == "chef_de_projet"


@pytest.mark.parametrize(
    "role", ["élu", "directrice", "chargée de communication", "sous-chef de cuisine", "", "mission"]
)
def test_other_roles_are_not_eligible_roles(role):
    assert normalise_role(role) is None


@pytest.mark.parametrize(
    ("approach", "expected"),
    [
        ("PAT", "PAT"),
        ("pat", "PAT"),
        (" Pat ", "PAT"),
        ("P.A.T.", "PAT"),
        ("sat", "SAT"),
        ("Stratégie alimentaire territoriale", "SAT"),
        ("projet alimentaire territorial", "PAT"),
        ("other", None),
        ("patate", None),
    ],
)
def test_approaches_are_read_whatever_their_casing(approach, expected):
    assert normalise_approach(approach) == expected


def test_a_charge_de_mission_leading_a_pat_is_an_applicant():
    applicant = screen(role="Chargée de mission", approach="pat")
    assert applicant == Applicant(
        email=EmailAddress("camille.martin@cc-exemple.fr", "camille.martin@cc-exemple.fr"),
        role="charge_de_mission",
        approach="PAT",
    )


def test_an_eligible_role_without_a_pat_or_sat_is_not_eligible():
    refusal = screen(approach="other")
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "not_eligible"
    assert "séances" in refusal.detail


def test_another_role_is_not_eligible_and_invited_to_the_sessions():
    refusal = screen(role="élue")
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "not_eligible"
    assert "inscrire aux séances" in refusal.detail


def test_consent_refused_is_invalid_whatever_the_rest():
    refusal = screen(consent=False, role="élue", email="nope")
    assert refusal == Refusal("invalid", refusal.detail)
    assert "consentement" in refusal.detail


@pytest.mark.parametrize("name", ["<b>Camille</b>", "Camille<script>", "a > b"])
def test_markup_in_a_name_is_invalid(name):
    refusal = screen(first_name=name)
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "invalid"


def test_apostrophes_and_hyphens_in_names_are_fine():
    assert isinstance(screen(first_name="Marie-Hélène", last_name="O'Connor"), Applicant)


# --- addresses -----------------------------------------------------------------------


@hypothesis_settings(deadline=None)  # the first call loads IDNA tables; CPU is shared
@given(role=st.text(max_size=200), approach=st.text(max_size=200))
def test_any_role_and_approach_are_read_without_failing(role, approach):
    assert normalise_role(role) in {None, "charge_de_mission", "chef_de_projet"}
    assert normalise_approach(approach) in {None, "PAT", "SAT"}


# --- sessions, places and the waitlist -------------------------------------------------


def session(*, starts_in: timedelta = timedelta(days=10), cancelled: bool = False):
    return SessionView("s1", NOW + starts_in, cancelled)


def test_a_sign_up_for_an_unknown_session_is_refused():
    refusal = signup_refusal(None, now=NOW)
    assert refusal is not None
    assert refusal.reason == "unknown_session"


def test_a_sign_up_for_a_cancelled_session_is_refused():
    refusal = signup_refusal(session(cancelled=True), now=NOW)
    assert refusal is not None
    assert refusal.reason == "cancelled_session"


@pytest.mark.parametrize("starts_in", [timedelta(0), timedelta(hours=-1), timedelta(days=-60)])
def test_a_sign_up_once_the_session_has_started_is_refused_as_past(starts_in):
    refusal = signup_refusal(session(starts_in=starts_in), now=NOW)
    assert refusal is not None
    assert refusal.reason == "past_session"


def test_a_sign_up_for_an_upcoming_session_is_accepted():
    assert signup_refusal(session(starts_in=timedelta(minutes=1)), now=NOW) is None


def test_a_sign_up_gets_a_place_while_places_are_free():
    assert place_for(enrolled=29, waitlisted=0, capacity=30) == Place("enrolled")


def test_a_sign_up_beyond_capacity_goes_to_the_end_of_the_waitlist():
    assert place_for(enrolled=30, waitlisted=0, capacity=30) == Place("waitlisted", 1)
    assert place_for(enrolled=30, waitlisted=4, capacity=30) == Place("waitlisted", 5)


def test_nobody_jumps_the_waitlist_even_when_places_are_free():
    assert place_for(enrolled=20, waitlisted=2, capacity=30) == Place("waitlisted", 3)


@hypothesis_settings(deadline=None)  # the first call loads IDNA tables; CPU is shared
@given(capacity=st.integers(1, 50), enrolled=st.integers(0, 60), waitlisted=st.integers(0, 60))
def test_promotions_fill_free_places_from_the_waitlist_and_never_overfill(
    capacity, enrolled, waitlisted
):
    due = promotions(enrolled=enrolled, waitlisted=waitlisted, capacity=capacity)
    assert 0 <= due <= waitlisted
    assert enrolled + due <= max(capacity, enrolled)
    if enrolled < capacity:
        assert due == min(capacity - enrolled, waitlisted)
