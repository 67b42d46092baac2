"""Each service's report view on the real database: the year's counts, months in Paris
time, and never a name, an address or a pseudonym in its answer.

The records are written through the services' own repositories (the shape their
handlers store), then the view is called as the service serves it: on a `Storage`
without a session.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications import report as notifications_report
from services.notifications.deliveries import delivery_documents
from services.notifications.domain import Recipient
from services.notifications.records import Dispatch
from services.programme import report as programme_report
from services.programme.domain import Member as ProgrammeMember
from services.programme.domain import MemberState, Proposer, new_topic
from services.programme.ranking import Candidate, ProgrammeVersion, Ranked
from services.programme.repository import MongoUnit as ProgrammeUnit
from services.registration import report as registration_report
from services.registration.domain import PlaceStatus
from services.registration.records import Attendance, Member, Participant, Rating, SessionRecord
from services.registration.repository import MongoUnit as RegistrationUnit
from services.scheduling import report as scheduling_report
from services.scheduling.cadence import Slot
from services.scheduling.domain import Session, SessionExpert
from services.scheduling.records import Invitation, Question, Report
from services.scheduling.repository import MongoUnit as SchedulingUnit
from shared.identity import person_key
from shared.report.figures import (
    NotificationsFigures,
    ProgrammeFigures,
    RegistrationFigures,
    SchedulingFigures,
)
from shared.storage import Storage

pytestmark = pytest.mark.integration

YEAR = {"year": "2025"}
PEOPLE = ("Camille", "Martin", "Dominique", "Durand", "Alex", "Bernard", "Expertine", "Savante")
ADDRESSES = ("camille@cc-voironnais.fr", "dominique@vercors.fr", "alex@asso.org", "ex@inrae.fr")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def storage(mongo: Any, settings: Any, service: str) -> Storage:
    return Storage(mongo[settings.database_name(service)])


def assert_anonymous(answer: dict[str, Any], *pseudonymised: str) -> None:
    """No name, address or pseudonym anywhere in the JSON."""
    text = json.dumps(answer, ensure_ascii=False).lower()
    for secret in (*PEOPLE, *ADDRESSES, *(person_key(a) for a in pseudonymised)):
        assert secret.lower() not in text, secret


def member(member_id: str, email: str, registered_at: datetime, **fields: Any) -> Member:
    values: dict[str, Any] = {
        "member_id": member_id,
        "email_key": email,
        "email": email,
        "first_name": "Camille",
        "last_name": "Martin",
        "role": "charge_de_mission",
        "organisation": "CC du Pays Voironnais",
        "territory": "Pays Voironnais",
        "approach": "PAT",
        "topics_of_interest": (),
        "registered_at": registered_at,
        **fields,
    }
    return Member(**values)


async def test_registration_counts_members_by_paris_month_and_sessions(mongo, settings):
    db = storage(mongo, settings, "registration")
    uow = RegistrationUnit(db)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris: a February arrival.
    await uow.members.add(member("m1", ADDRESSES[0], utc(2025, 1, 31, 23, 30)))
    await uow.members.add(member("m2", "d2@x.fr", utc(2024, 6, 1), first_name="Dominique"))
    await uow.members.mark_left("m2", at=utc(2025, 3, 10))
    await uow.members.add(
        member("m3", ADDRESSES[1], utc(2025, 4, 2), territory="Vercors", approach="SAT")
    )
    await uow.members.add(member("m4", "d4@x.fr", utc(2024, 2, 1), territory="Trièves"))
    await uow.members.mark_left("m4", at=utc(2024, 11, 1))
    await uow.members.add(member("m5", "d5@x.fr", utc(2025, 5, 5), territory="Oisans"))
    await uow.members.mark_left("m5", at=utc(2025, 7, 1))
    await uow.members.erase("m5", at=utc(2025, 7, 1))
    await uow.members.add(
        member("m6", "d6@x.fr", utc(2025, 12, 31, 23, 30), territory="Matheysine")
    )

    starts = utc(2025, 3, 18, 9)
    await uow.sessions.save(SessionRecord("s1", starts, starts + timedelta(hours=2), 0))
    await uow.sessions.save(SessionRecord("s0", utc(2024, 12, 31, 23, 30), utc(2025, 1, 1, 1), 0))
    await uow.sessions.save(SessionRecord("s9", utc(2026, 1, 6, 9), utc(2026, 1, 6, 11), 0))
    signed: list[tuple[str, PlaceStatus]] = [
        (ADDRESSES[0], "enrolled"),
        (ADDRESSES[2], "enrolled"),
        ("w@x.fr", "waitlisted"),
    ]
    for rank, (email, status) in enumerate(signed):
        await uow.participants.add(
            Participant(
                f"p{rank}", "s1", email, email, "Alex", "Bernard", None, status, rank, starts, False
            )
        )
    await uow.participants.add(
        Participant("p9", "s9", "z@x.fr", "z@x.fr", "A", "B", None, "enrolled", 1, starts, False)
    )
    await uow.attendances.replace(
        "s1",
        [
            Attendance("s1", ADDRESSES[0], ADDRESSES[0], "Camille", starts),
            Attendance("s1", ADDRESSES[2], ADDRESSES[2], "Alex", starts),
        ],
    )
    await uow.ratings.save(Rating("s1", ADDRESSES[0], 4, "Très bien, Camille", starts))
    await uow.ratings.save(Rating("s1", ADDRESSES[2], 5, None, starts))
    await uow.attendances.anonymise(ADDRESSES[2])  # erased: still a figure
    await uow.ratings.anonymise(ADDRESSES[2])

    answer = await registration_report.activity(db, YEAR)

    figures = RegistrationFigures.model_validate(answer)
    assert [(m.month, m.joined, m.left) for m in figures.months if m.joined or m.left] == [
        (2, 1, 0),
        (3, 0, 1),
        (4, 1, 0),
        (7, 0, 1),  # the erased member's departure stays
    ]
    assert (figures.members_during_year, figures.members_at_end_of_year) == (3, 2)
    assert [(t.territory, t.members) for t in figures.territories] == [
        ("Pays Voironnais", 2),
        ("Vercors", 1),
    ]
    assert [(a.approach, a.members) for a in figures.approaches] == [("PAT", 2), ("SAT", 1)]
    assert [s.model_dump() for s in figures.sessions] == [
        {
            "session_id": "s0",
            "enrolled": 0,
            "waitlisted": 0,
            "attended": 0,
            "ratings": 0,
            "average_rating": None,
        },
        {
            "session_id": "s1",
            "enrolled": 2,
            "waitlisted": 1,
            "attended": 2,
            "ratings": 2,
            "average_rating": 4.5,
        },
    ]
    assert_anonymous(answer, *ADDRESSES)


async def test_scheduling_counts_each_session_questions_and_experts(mongo, settings):
    db = storage(mongo, settings, "scheduling")
    uow = SchedulingUnit(db)
    expert = SessionExpert(person_key(ADDRESSES[3]), "Expertine", "Savante", "INRAE", "Foncier")

    def session(session_id: str, start: datetime, **fields: Any) -> Session:
        slot = Slot.of(start, start + timedelta(hours=2))
        return Session(session_id, "Foncier", "Comment ?", slot, "https://visio/x", **fields)

    await uow.sessions.save(session("s1", utc(2025, 3, 18, 9), experts=(expert,)))
    await uow.sessions.save(session("s0", utc(2024, 12, 31, 23, 30)))  # 1 January in Paris
    await uow.sessions.save(session("s2", utc(2025, 5, 20, 8), status="cancelled"))
    await uow.sessions.save(session("s9", utc(2026, 1, 6, 9)))
    for number, email in enumerate([ADDRESSES[0], ADDRESSES[1]], start=1):
        await uow.digests.count_question("s1")
        question = Question(
            f"q{number}", "s1", number, person_key(email), "Camille Martin", "?", utc(2025, 3, 1)
        )
        await uow.questions.add(question)
    for status, email in [
        ("accepted", ADDRESSES[3]),
        ("invited", "f@x.fr"),
        ("declined", "g@x.fr"),
    ]:
        await uow.invitations.save(
            Invitation(
                session_id="s1",
                email=email,
                key=email,
                person=person_key(email),
                first_name="Expertine",
                last_name="Savante",
                organisation="INRAE",
                expertise="Foncier",
                message="Bonjour Expertine",
                status=status,  # type: ignore[arg-type]
                invited_at=utc(2025, 2, 1),
            )
        )
    await uow.reports.save(Report("s1", 1, "Compte rendu", (), (), (), "r1", utc(2025, 3, 19)))

    answer = await scheduling_report.activity(db, YEAR)

    figures = SchedulingFigures.model_validate(answer)
    assert [s.session_id for s in figures.sessions] == ["s0", "s1", "s2"]
    counted = {
        s.session_id: (
            s.status,
            s.questions,
            s.experts_invited,
            s.experts_confirmed,
            s.report_shared,
        )
        for s in figures.sessions
    }
    assert counted == {
        "s0": ("scheduled", 0, 0, 0, False),
        "s1": ("scheduled", 2, 3, 1, True),
        "s2": ("cancelled", 0, 0, 0, False),
    }
    assert figures.sessions[1].starts_at == utc(2025, 3, 18, 9)
    assert_anonymous(answer, *ADDRESSES, "f@x.fr", "g@x.fr")


async def test_programme_gives_the_latest_ranking_of_the_year_and_its_turnout(mongo, settings):
    db = storage(mongo, settings, "programme")
    uow = ProgrammeUnit(db)
    proposer = Proposer(
        ADDRESSES[0], ADDRESSES[0], "Camille Martin", "member", "e1", utc(2025, 1, 2)
    )
    topics = [
        new_topic(event_id=f"e{n}", title=title, question="?", description=None, proposer=proposer)
        for n, title in enumerate(["Gouvernance", "Foncier agricole", "Cantines"])
    ]
    for topic in topics[:2]:  # the third one is unknown here: its title is None
        await uow.topics.add(topic)
    first, second, third = (t.topic_id for t in topics)
    candidates = tuple(Candidate(t.topic_id, t.proposed_at) for t in topics)

    def version(year: int, number: int, ranking: list[str], ballots: int) -> ProgrammeVersion:
        ranked = tuple(Ranked(t, rank, 10 - rank) for rank, t in enumerate(ranking, start=1))
        return ProgrammeVersion(
            f"p{year}-{number}",
            year,
            number,
            f"e{year}{number}",
            candidates,
            ((first,),) * ballots,
            ranked,
        )

    await uow.programmes.add(version(2025, 1, [first, second, third], ballots=1))
    await uow.programmes.add(version(2025, 2, [second, first, third], ballots=3))
    await uow.programmes.add(version(2026, 1, [third], ballots=7))
    for n, status in enumerate(["active", "active", "active", "left", "erased"]):
        await uow.members.save(
            ProgrammeMember(f"m{n}", MemberState(status, utc(2025, 1, 1)), f"k{n}", "Alex Bernard")  # type: ignore[arg-type]
        )

    answer = await programme_report.activity(db, YEAR)
    nothing = await programme_report.activity(db, {"year": "2024"})

    figures = ProgrammeFigures.model_validate(answer)
    assert figures.programme is not None
    assert (figures.programme.version, figures.programme.ballots) == (2, 3)
    assert figures.programme.active_members == 3
    assert [(r.rank, r.title, r.score) for r in figures.programme.ranking] == [
        (1, "Foncier agricole", 9),
        (2, "Gouvernance", 8),
        (3, None, 7),
    ]
    assert ProgrammeFigures.model_validate(nothing).programme is None
    assert_anonymous(answer, *ADDRESSES)


async def test_notifications_counts_emails_sent_and_failed_by_kind_in_the_year(mongo, settings):
    db = storage(mongo, settings, "notifications")
    deliveries = db.collection("deliveries")
    people = tuple(Recipient(a, "Camille", "Martin", "member") for a in ADDRESSES)

    async def outcome(kind: str, status: str, at: datetime | None, cause: str) -> None:
        dispatch = Dispatch(kind, cause, "member_registered", at or utc(2025, 1, 1), {}, people)  # type: ignore[arg-type]
        _, documents = delivery_documents(dispatch, now=at or utc(2025, 1, 1))
        await deliveries.insert_many(documents)
        await deliveries.update_many(
            {"cause_id": cause}, {"$set": {"status": status, "finished_at": at}}
        )

    await outcome("welcome", "sent", utc(2025, 2, 1), "c1")  # 4 recipients each
    await outcome("welcome", "failed", utc(2025, 2, 2), "c2")
    await outcome("session_invitation", "sent", utc(2025, 12, 31, 22), "c3")
    await outcome("welcome", "sent", utc(2025, 12, 31, 23, 30), "c4")  # 2026 in Paris
    await outcome("thanks", "skipped", utc(2025, 3, 1), "c5")
    await outcome("reminder", "pending", None, "c6")

    answer = await notifications_report.activity(db, YEAR)

    figures = NotificationsFigures.model_validate(answer)
    assert [(e.kind, e.sent, e.failed) for e in figures.emails] == [
        ("session_invitation", 4, 0),
        ("welcome", 4, 4),
    ]
    assert_anonymous(answer, *ADDRESSES)


@pytest.mark.parametrize(
    "view",
    [
        registration_report.activity,
        scheduling_report.activity,
        programme_report.activity,
        notifications_report.activity,
    ],
)
@pytest.mark.parametrize("query", [{}, {"year": "deux mille"}, {"year": "1999"}, {"year": "٢٠٢٥"}])
async def test_a_view_refuses_a_missing_or_unlikely_year(mongo, settings, view, query):
    with pytest.raises(ValueError, match="year: expected a year from 2000 to 2100"):
        await view(storage(mongo, settings, "registration"), query)


async def test_a_year_without_records_is_all_zeros(mongo, settings):
    registration = RegistrationFigures.model_validate(
        await registration_report.activity(storage(mongo, settings, "registration"), YEAR)
    )
    scheduling = SchedulingFigures.model_validate(
        await scheduling_report.activity(storage(mongo, settings, "scheduling"), YEAR)
    )
    emails = NotificationsFigures.model_validate(
        await notifications_report.activity(storage(mongo, settings, "notifications"), YEAR)
    )

    assert {(m.joined, m.left) for m in registration.months} == {(0, 0)}
    assert registration.members_during_year == registration.members_at_end_of_year == 0
    assert registration.territories == []
    assert registration.sessions == []
    assert scheduling.sessions == []
    assert emails.emails == []
