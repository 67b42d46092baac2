"""Hostile CloudEvents for every topic a service consumes, drawn with hypothesis.

A message is either garbage (bytes that are not JSON, JSON that is not an object) or a
valid event of the topic, mutated: a field dropped, an unknown one added, a value of
the wrong type, a huge string, unicode edge cases, CR/LF or HTML in a text, an absurd
date. Whether the result still honours the contract is not guessed: the contract's own
model says so (`classify`), and the scenario expects a dead letter for what it refuses.

`draw_messages` runs the strategy a fixed number of times with a derandomized
hypothesis (same messages on every run, so CI is deterministic).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contract import INBOUND, event_model
from tests.harness.data import member, registration

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "contract" / "asyncapi"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _consumers() -> dict[str, tuple[str, ...]]:
    """Every topic a service consumes, and who consumes it: read from the committed
    AsyncAPI documents (drift-tested against the code), so no topic is forgotten."""
    found: dict[str, list[str]] = {}
    for document in sorted(ASYNCAPI.glob("*.yaml")):
        channels = yaml.safe_load(document.read_text(encoding="utf-8"))["channels"]
        for name, channel in channels.items():
            if any("Subscribe" in message for message in channel.get("messages", {})):
                found.setdefault(name.split(":")[0], []).append(document.stem)
    return {topic: tuple(services) for topic, services in sorted(found.items())}


CONSUMERS: dict[str, tuple[str, ...]] = _consumers()
"""Every topic a service consumes, and who consumes it."""

NEEDS_STATE = frozenset({"session_report_published"})
"""Types whose valid events are poison without state the fuzzer does not build (a compte
rendu names a session that has taken place): never sent as the good ones."""

HOSTILE_TEXTS = (
    "<script>alert('x')</script>",
    "<b>gras</b> & <i>italique</i>",
    '"><img src=x onerror=alert(1)>',
    "Camille\r\nBcc: victime@exemple.org",
    "Camille\nSubject: faux",
    "Zoë\u0000Nul",
    "\u202eeliF\u202c",
    "\u200b\u200d\ufeff",
    "\ud800",
    "Ǆemaille ﬁn ŉ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧑‍🌾👩🏽‍🍳",
    "e\u0301\u0301\u0301\u0301",
    "Ω≈ç√∫˜µ≤≥÷",
    "{{ 7 * 7 }} {% raw %}",
    "=?utf-8?q?Bcc:_x@y.org?=",
    "",
    " ",
)
ABSURD_DATES = (
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "2020-02-30T10:00:00+01:00",
    "2020-01-21T10:00:00",
    "+275760-09-13T00:00:00Z",
    "1970-01-01T00:00:00-23:59",
    "hier",
    1e20,
    -1,
)
WRONG_VALUES: tuple[Any, ...] = (None, 0, -1, 10**30, 3.14, True, [], {}, ["a"], {"$gt": ""}, "")


@dataclass(frozen=True)
class Fuzzed:
    """One message to publish on a topic, with what the contract says about it."""

    event_type: str
    body: bytes
    event_id: str | None
    how: str

    @property
    def valid(self) -> bool:
        """True when the contract accepts it (it has an event id then)."""
        return self.event_id is not None


def classify(event_type: str, body: bytes) -> str | None:
    """The event id when the contract accepts `body` as an event of `event_type`."""
    try:
        return str(event_model(event_type).model_validate_json(body).id)
    except ValueError:
        return None


def future(days: int, hours: int = 0) -> datetime:
    """A Paris 10:00 slot (09:00 UTC) some days from now."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hours)


def _session(session_id: str, *, days: int = 400) -> dict[str, Any]:
    starts = future(days)
    return {
        "session_id": session_id,
        "title": "Séance de test",
        "question": "Quelle question ?",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Paris",
        "join_url": "https://visio.caprural.org/pat/x",
        "sequence": 0,
    }


def _person(mark: str) -> str:
    return f"fuzz-{mark}-{uuid.uuid4().hex[:6]}@cc-exemple.fr"


def _example(event_type: str, *, email: str, session_id: str, topic_id: str) -> dict[str, Any]:
    """An inbound type's example (examples/), made this run's own: its own address,
    session and topic."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text("utf-8"))
    for name in ("email",):
        if name in data:
            data[name] = email
    if "session_id" in data:
        data["session_id"] = session_id
    if "topic_id" in data:
        data["topic_id"] = topic_id
    if "ranking" in data:
        data["ranking"] = [topic_id]
    if "attendees" in data:
        data["attendees"] = [email]
    if "proposed_by" in data:
        data["proposed_by"]["email"] = email
        data["title"] = f"Sujet {uuid.uuid4().hex[:6]}"
    return data


def template(event_type: str, mark: str, *, topic_id: str) -> dict[str, Any]:
    """The `data` of a valid event of each consumed type."""
    email = _person(mark)
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    session_id = f"s-{uuid.uuid4().hex[:10]}"
    if (EXAMPLES / f"{event_type}.json").exists():
        return _example(event_type, email=email, session_id=session_id, topic_id=topic_id)
    expert = {
        "session_id": session_id,
        "email": email,
        "first_name": "Claire",
        "last_name": "Lambert",
        "organisation": "Cabinet",
        "expertise": "Commande publique",
    }
    asked = {
        "asked_by": "Camille Martin",
        "question": "Comment ?",
        "asked_at": future(1).isoformat(),
    }
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "interest_recorded": lambda: {
            "email": email,
            "first_name": "Alex",
            "last_name": "Bernard",
            "topic_ids": [],
            "origin": "declared",
        },
        "interest_removed": lambda: {"email": email, "reason": "withdrawn"},
        "interest_rejected": lambda: {
            "email": email,
            "first_name": "Alex",
            "reason": "invalid",
            "detail": "Consentement manquant.",
        },
        "person_erased": lambda: {"person": f"p-{uuid.uuid4().hex}"},
        "confirmation_requested": lambda: {
            "purpose": "signup",
            "email": email,
            "first_name": "Alex",
            "last_name": "Bernard",
            "session_id": session_id,
        },
        "session_question_accepted": lambda: {
            "session_id": session_id,
            "email": email,
            "asked_by": "Camille Martin",
            "question": "Comment ?",
        },
        "session_question_rejected": lambda: {
            "session_id": session_id,
            "email": email,
            "reason": "not_a_participant",
            "detail": "Réservé aux participant·es.",
        },
        "attendance_accepted": lambda: {
            "session_id": session_id,
            "attendees": [{"email": email, "first_name": "Camille"}],
            "unmatched": 0,
            "ends_at": future(400, 2).isoformat(),
        },
        "attendance_rejected": lambda: {
            "session_id": session_id,
            "reason": "not_started",
            "detail": "Pas commencée.",
        },
        "feedback_rejected": lambda: {
            "session_id": session_id,
            "email": email,
            "reason": "not_an_attendee",
            "detail": "Absent·e.",
        },
        "question_digest_due": lambda: {**_session(session_id), "questions": [asked]},
        "session_question_forwarded": lambda: {**_session(session_id), "asked": asked},
        "session_report_shared": lambda: {
            **_session(session_id),
            "report_version": 1,
            "summary": "Échanges.",
            "resources": [{"title": "Guide", "url": "https://exemple.org/guide"}],
            "next_steps": ["Suite."],
            "expertise_needs": ["Un juriste."],
        },
        "expert_invited": lambda: {**expert, "message": "Bienvenue."},
        "expert_accepted": lambda: {**expert, "note": "Avec plaisir."},
        "expert_declined": lambda: {**expert, "note": "Absente.", "changed_mind": False},
        "expert_no_answer": lambda: expert,
        "expert_invitation_rejected": lambda: {
            "session_id": session_id,
            "email": email,
            "reason": "past_session",
            "detail": "Séance passée.",
        },
        "expert_response_rejected": lambda: {
            "session_id": session_id,
            "email": email,
            "reason": "not_invited",
            "detail": "Pas invitée.",
        },
        "registration_requested": lambda: registration(email),
        "session_signup_requested": lambda: {
            "session_id": session_id,
            "email": email,
            "first_name": "Dominique",
            "last_name": "Durand",
            "organisation": "Commune",
        },
        "session_signup_cancelled": lambda: {"session_id": session_id, "email": email},
        "member_leave_requested": lambda: {"email": email, "erase": False},
        "topic_proposed": lambda: {
            "title": f"Sujet {uuid.uuid4().hex[:6]}",
            "question": "Comment faire ?",
            "description": "Détails.",
            "proposed_by": {"email": email, "name": "Camille Martin"},
            "origin": "member",
        },
        "topic_commented": lambda: {"topic_id": topic_id, "email": email, "comment": "Oui."},
        "topic_vote_cast": lambda: {"email": email, "ranking": [topic_id]},
        "programme_publication_requested": lambda: {"year": 2099, "sessions": 1},
        "session_schedule_requested": lambda: {
            "title": "Séance",
            "question": "Quelle question ?",
            "starts_at": future(500).isoformat(),
            "ends_at": (future(500) + timedelta(hours=2)).isoformat(),
        },
        "session_reschedule_requested": lambda: {
            "session_id": session_id,
            "starts_at": future(501).isoformat(),
            "ends_at": (future(501) + timedelta(hours=1)).isoformat(),
        },
        "session_cancel_requested": lambda: {"session_id": session_id, "reason": "Annulée."},
        "member_registered": lambda: member(email, member_id=member_id),
        "registration_rejected": lambda: {
            "email": email,
            "first_name": "Camille",
            "reason": "not_eligible",
            "detail": "Réservé aux chargés de mission.",
        },
        "participant_enrolled": lambda: {
            "session_id": session_id,
            "participant_id": f"p-{uuid.uuid4().hex[:10]}",
            "email": email,
            "first_name": "Dominique",
            "last_name": "Durand",
            "status": "waitlisted",
            "waitlist_position": 2,
            "promoted": False,
            "is_member": False,
        },
        "participant_withdrawn": lambda: {
            "session_id": session_id,
            "participant_id": f"p-{uuid.uuid4().hex[:10]}",
            "email": email,
            "reason": "cancelled_by_participant",
        },
        "session_signup_rejected": lambda: {
            "session_id": session_id,
            "email": email,
            "first_name": "Dominique",
            "reason": "unknown_session",
            "detail": "Séance inconnue.",
        },
        "member_left": lambda: {
            "member_id": member_id,
            "email": email,
            "first_name": "Camille",
            "erase": False,
        },
        "member_erased": lambda: {"member_id": member_id},
        "topic_accepted": lambda: {
            "topic_id": f"t-{uuid.uuid4().hex[:10]}",
            "title": "Sujet",
            "question": "Comment ?",
            "proposed_by": {"email": email, "name": "Camille Martin"},
            "origin": "member",
        },
        "programme_published": lambda: {
            "programme_id": f"p-{uuid.uuid4().hex[:10]}",
            "year": 2098,
            "version": 1,
            "method": "borda",
            "topics": [
                {
                    "topic_id": f"t-{uuid.uuid4().hex[:10]}",
                    "title": "Sujet",
                    "question": "Comment ?",
                    "rank": 1,
                    "score": 3,
                    "comments": [{"author": "Camille Martin", "comment": "Oui."}],
                }
            ],
            "ballots": 1,
        },
        "ballot_rejected": lambda: {
            "email": email,
            "reason": "not_member",
            "detail": "Réservé aux membres.",
        },
        "session_scheduled": lambda: _session(session_id),
        "session_rescheduled": lambda: {
            **_session(session_id, days=401),
            "sequence": 1,
            "previous_starts_at": future(400).isoformat(),
        },
        "session_cancelled": lambda: {**_session(session_id), "sequence": 1, "reason": "Annulée."},
        "session_reminder_due": lambda: {**_session(session_id), "remind": "J-1"},
    }
    return builders[event_type]()


def envelope(event_type: str, data: Any, *, event_id: str | None = None) -> dict[str, Any]:
    """A structured-mode CloudEvent around `data`."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": "urn:caprural:fuzzer",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists (not deeper than 20 steps: a
    nested mutation made them hundreds deep)."""
    found: list[tuple[Any, ...]] = []
    if len(prefix) >= 20:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found += _paths(item, (*prefix, index))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


FIXED_ATTRIBUTES = frozenset({"specversion", "type", "datacontenttype"})
BREAKING = ("drop", "wrong_type", "huge", "nest")
"""Mutations that usually break the contract (a field gone, a wrong type, too long)."""
MUTATIONS = (
    # Mutations that keep the shape (hostile text in a text field, odd dates) are drawn
    # more often: the contract accepts many of them, and the services must cope.
    *("hostile", "hostile", "hostile", "text", "text", "date"),
    *("drop", "extra", "wrong_type", "huge", "nest"),
)


@st.composite
def mutated(
    draw: st.DrawFn,
    event_type: str,
    mark: str,
    topic_id: str,
    kinds: tuple[str, ...] = MUTATIONS,
) -> tuple[Any, str]:
    """A valid event of the type, then one or two mutations; (document, description)."""
    document: Any = envelope(event_type, template(event_type, mark, topic_id=topic_id))
    notes = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(kinds))
        paths = _paths(document)
        if kind in {"hostile", "text"}:
            # Not the envelope's fixed values: other mutations break those.
            paths = [
                p
                for p in paths
                if isinstance(_at(document, p), str) and p[0] not in FIXED_ATTRIBUTES
            ]
        elif kind == "date":
            paths = [p for p in paths if str(p[-1]) == "time" or str(p[-1]).endswith("_at")]
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        notes.append(f"{kind}@{'.'.join(map(str, path))}")
        key = path[-1]
        if kind == "drop":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif kind == "extra":
            target = parent if isinstance(parent, dict) else document
            name = draw(st.sampled_from(["x", "role2", "$where", "__proto__", "email", "é"]))
            # A copy: a later mutation must never change the shared constants.
            target[name] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES + HOSTILE_TEXTS)))
        elif kind == "wrong_type":
            parent[key] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES)))
        elif kind == "huge":
            parent[key] = draw(st.sampled_from(["A", "é", "<", "\u200b"])) * draw(
                st.sampled_from([101, 1001, 5001, 100_000])
            )
        elif kind == "hostile":
            text = draw(st.sampled_from(HOSTILE_TEXTS))
            parent[key] = draw(st.sampled_from([text, f"{parent[key]} {text}"]))
        elif kind == "date":
            parent[key] = draw(st.sampled_from(ABSURD_DATES))
        elif kind == "text":
            parent[key] = draw(st.text(max_size=30))
        else:
            parent[key] = _nested(draw(st.sampled_from([5, 300, 800])))
    return document, ", ".join(notes) or "unchanged"


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _nested(depth: int) -> Any:
    value: Any = "fond"
    for _ in range(depth):
        value = [value]
    return value


def _deep_json(depth: int) -> bytes:
    return b'{"data":' + b"[" * depth + b"]" * depth + b"}"


GARBAGE = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"{",
            b"null",
            b"[]",
            b'"texte"',
            b"\xff\xfe\x00{}",
            b'{"specversion": "1.0"}',
            b'{"id": 1e999}',
            _deep_json(100_000),
        ]
    ),
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3),
        max_leaves=8,
    ).map(lambda value: json.dumps(value).encode()),
)


INBOUND_TYPES = tuple(sorted(model.event_type for model in INBOUND))
"""What other systems publish: the platform's front door."""
INTERNAL_TYPES = tuple(sorted(set(CONSUMERS) - set(INBOUND_TYPES)))
"""What the services publish to each other."""


@st.composite
def hostile(
    draw: st.DrawFn,
    mark: str,
    topic_id: str,
    types: tuple[str, ...],
    kinds: tuple[str, ...] = MUTATIONS,
) -> Fuzzed:
    """One hostile message for one of the topics `types`."""
    event_type = draw(st.sampled_from(types))
    if draw(st.integers(0, 4)) == 0:
        body = draw(GARBAGE)
        how = "garbage"
    else:
        document, how = draw(mutated(event_type, mark, topic_id, kinds))
        # ensure_ascii keeps lone surrogates as \\ud800 escapes: valid JSON text.
        body = json.dumps(document, ensure_ascii=draw(st.booleans())).encode(
            "utf-8", "surrogatepass"
        )
    return Fuzzed(event_type, body, classify(event_type, body), how)


MAX_MESSAGE_BYTES = 900_000
"""Kafka refuses records over about 1 MB (`message.max.bytes`): the fuzzer stays under."""


def draw_messages(
    count: int,
    *,
    mark: str,
    topic_id: str,
    types: tuple[str, ...] = INBOUND_TYPES,
    refused_only: bool = False,
) -> list[Fuzzed]:
    """`count` hostile messages on the topics `types`, the same shapes on every run
    (derandomized); `refused_only`: only messages the contract refuses (garbage, broken
    fields), drawn more (the others are dropped) until `count` are kept."""
    drawn: list[Fuzzed] = []

    @settings(
        max_examples=count * 2 if refused_only else count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile(mark, topic_id, types, BREAKING if refused_only else MUTATIONS))
    def collect(message: Fuzzed) -> None:
        if len(message.body) > MAX_MESSAGE_BYTES:  # beyond, no producer can publish it
            return
        if refused_only and (message.valid or len(drawn) >= count):
            return
        drawn.append(message)

    collect()
    return drawn


def good(event_type: str, mark: str, *, topic_id: str) -> Fuzzed:
    """A valid event of the type (processed by every consumer, never dead-lettered)."""
    body = json.dumps(envelope(event_type, template(event_type, mark, topic_id=topic_id)))
    encoded = body.encode()
    event_id = classify(event_type, encoded)
    assert event_id is not None, event_type
    return Fuzzed(event_type, encoded, event_id, "good")


EXTREME_DATES = (
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+00:00",
    "1900-01-01T00:00:00+00:00",
    "2199-12-31T23:59:59+00:00",
)
"""The ends of what exists (the first two do not in UTC, the next two not in Paris) and
of what the contract accepts (1900 to 2199)."""


def edge_cases(mark: str, *, topic_id: str) -> list[Fuzzed]:
    """Deterministic extremes the random draws may miss: on every topic, the envelope's
    `time` at each extreme; on every dated payload, its first date at each extreme."""
    found: list[Fuzzed] = []
    for event_type in sorted(CONSUMERS):
        for value in EXTREME_DATES:
            document = envelope(event_type, template(event_type, mark, topic_id=topic_id))
            document["time"] = value
            found.append(_fuzzed(event_type, document, f"edge@time={value}"))
            data = envelope(event_type, template(event_type, mark, topic_id=topic_id))
            dated = [k for k in data["data"] if k.endswith("_at")]
            if dated:
                data["data"][dated[0]] = value
                found.append(_fuzzed(event_type, data, f"edge@data.{dated[0]}={value}"))
    return found


def _fuzzed(event_type: str, document: Any, how: str) -> Fuzzed:
    body = json.dumps(document).encode()
    return Fuzzed(event_type, body, classify(event_type, body), how)
