"""Programme handlers: `verb_object(event, uow, deps) -> events to publish`.

Each one checks its event with the pure rules (domain.py, ranking.py), reads and writes
through the unit of work's repositories, and returns the events it emits; the inbox
runs it once per event id, in a transaction (shared/inbox.py). A handler refusing its
event (`PoisonMessage`) does so before any write: the event is dead-lettered and the
rest of its batch goes on.

People are known by their address key (`shared.identity.email_key`), never by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.programme.domain import (
    Ballot,
    Comment,
    Member,
    MemberState,
    Proposer,
    author_names,
    check_ballot,
    member_transition,
    new_topic,
    programme_id_for,
    supersedes,
    title_key,
)
from services.programme.ranking import (
    Candidate,
    ProgrammeVersion,
    programme_topics,
    rank_topics,
)
from services.programme.unit import Unit
from shared.clock import Clock
from shared.contract import CloudEvent
from shared.contract.interest import PersonErased
from shared.contract.programme import (
    BallotRejected,
    BallotRejectedData,
    ProgrammePublicationRequested,
    ProgrammePublished,
    ProgrammePublishedData,
    TopicAccepted,
    TopicAcceptedData,
    TopicCommented,
    TopicProposed,
    TopicVoteCast,
)
from shared.contract.registration import MemberErased, MemberLeft, MemberRegistered
from shared.errors import PoisonMessage
from shared.identity import display_name, email_key, person_key

SOURCE = "urn:caprural:programme"

Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage, built once by the composition root."""

    clock: Clock


# --- topics --------------------------------------------------------------------------


async def accept_topic(event: TopicProposed, uow: Unit, deps: Deps) -> Emitted:
    """Store a new topic, or attach the proposal to the topic with the same title."""
    data = event.data
    key = title_key(data.title)
    if not key:
        raise PoisonMessage(f"title {data.title!r} has no letter or digit")
    proposer = Proposer(
        email=data.proposed_by.email,
        email_key=email_key(data.proposed_by.email),
        name=data.proposed_by.name,
        origin=data.origin,
        event_id=event.id,
        proposed_at=event.time,
    )
    topic = await uow.topics.find_by_title(key)
    duplicate_of = topic.topic_id if topic else None
    if topic is None:
        topic = new_topic(
            event_id=event.id,
            title=data.title,
            question=data.question,
            description=data.description,
            proposer=proposer,
        )
        await uow.topics.add(topic)
    else:
        await uow.topics.add_proposer(topic, proposer)
    accepted = TopicAcceptedData(
        topic_id=topic.topic_id,
        title=topic.title,
        question=topic.question,
        proposed_by=data.proposed_by,
        origin=data.origin,
        duplicate_of=duplicate_of,
    )
    return [_derived(TopicAccepted, accepted, event, deps, subject=topic.topic_id)]


async def record_comment(event: TopicCommented, uow: Unit, deps: Deps) -> Emitted:
    """Append a contribution to its topic (unknown or full topic: dead-lettered)."""
    data = event.data
    topic = await uow.topics.find(data.topic_id)
    if topic is None:
        raise PoisonMessage(f"unknown topic {data.topic_id!r}")
    if not topic.accepts_comments:
        raise PoisonMessage(f"topic {data.topic_id!r} holds the most comments it can")
    comment = Comment(
        event_id=event.id, email_key=email_key(data.email), comment=data.comment, at=event.time
    )
    await uow.topics.add_comment(topic.topic_id, comment)
    return []


# --- ballots and the programme ---------------------------------------------------------


async def cast_vote(event: TopicVoteCast, uow: Unit, deps: Deps) -> Emitted:
    """Store a member's ballot (replacing the earlier one), or refuse it whole."""
    data = event.data
    voter = email_key(data.email)
    rejection = check_ballot(
        data.ranking,
        is_member=await uow.members.is_active(voter),
        known_topics=await uow.topics.existing(data.ranking),
    )
    if rejection is not None:
        refused = BallotRejectedData(
            email=data.email, reason=rejection.reason, detail=rejection.detail
        )
        # Keyed by the voter's pseudonym: an address never appears in a Kafka key.
        return [_derived(BallotRejected, refused, event, deps, subject=person_key(voter))]
    if supersedes(event.time, await uow.ballots.find(voter)):
        await uow.ballots.save(Ballot(voter, tuple(data.ranking), event.time, event.id))
    return []


async def publish_programme(event: ProgrammePublicationRequested, uow: Unit, deps: Deps) -> Emitted:
    """Rank the topics from the stored ballots and publish the year's next version."""
    data = event.data
    topics = await uow.topics.all()
    if not topics:
        raise PoisonMessage("no topic has been proposed yet")
    ballots = [ballot.ranking for ballot in await uow.ballots.all()]
    candidates = [Candidate(t.topic_id, t.proposed_at) for t in topics]
    ranking = rank_topics(candidates, ballots)
    by_id = {t.topic_id: t for t in topics}
    names = author_names(topics, await uow.members.names())
    chosen = programme_topics(ranking, by_id, size=data.sessions, names=names)
    # The programme carries its authors' names: its record names them, for erasure.
    uow.names(*{c.email_key for t in chosen for c in by_id[t.topic_id].comments})
    latest = await uow.programmes.latest(data.year)
    programme = ProgrammeVersion(
        programme_id=programme_id_for(event.id),
        year=data.year,
        version=(latest.version if latest else 0) + 1,
        event_id=event.id,
        candidates=tuple(candidates),
        ballots=tuple(sorted(ballots)),
        ranking=tuple(ranking),
    )
    await uow.programmes.add(programme)
    published = ProgrammePublishedData(
        programme_id=programme.programme_id,
        year=programme.year,
        version=programme.version,
        topics=chosen,
        ballots=len(ballots),
    )
    subject = f"programme-{data.year}"
    return [_derived(ProgrammePublished, published, event, deps, subject=subject)]


# --- the members projection ----------------------------------------------------------


async def record_member(event: MemberRegistered, uow: Unit, deps: Deps) -> Emitted:
    """A member joined: they may vote (unless they were erased meanwhile)."""
    data = event.data
    key = email_key(data.email)
    current = await uow.members.find(data.member_id)
    if current is not None and current.state.status == "erased":
        # The erasure overtook the registration: erase what this address left here.
        await _erase(key, uow)
        return []
    if current is None:
        state = MemberState("active", event.time)
    else:
        # The most recent fact wins; an older registration still gives the full name.
        state = member_transition(current.state, status="active", at=event.time) or current.state
    name = display_name(data.first_name, data.last_name)
    await uow.members.save(Member(data.member_id, state, email_key=key, name=name))
    return []


async def record_departure(event: MemberLeft, uow: Unit, deps: Deps) -> Emitted:
    """A member left: their ballot no longer counts and they cannot vote."""
    data = event.data
    key = email_key(data.email)
    current = await uow.members.find(data.member_id)
    state = member_transition(current.state if current else None, status="left", at=event.time)
    if state is None:
        return []
    # A registration seen earlier gave the full name; otherwise keep the first name.
    name = current.name if current is not None else data.first_name
    await uow.members.save(Member(data.member_id, state, email_key=key, name=name))
    await uow.ballots.remove(key)
    return []


async def erase_member(event: MemberErased, uow: Unit, deps: Deps) -> Emitted:
    """Erase every personal datum of a former member (RGPD); keep a tombstone."""
    member_id = event.data.member_id
    member = await uow.members.find(member_id)
    if member is not None and member.email_key is not None:
        await _erase(member.email_key, uow)
    await uow.members.save(Member(member_id, MemberState("erased", event.time)))
    return []


async def erase_person(event: PersonErased, uow: Unit, deps: Deps) -> Emitted:
    """Erase anyone, member or not (a proposer, a contributor), found by pseudonym."""
    wanted = event.data.person
    topics = await uow.topics.all()
    keys = {p.email_key for t in topics for p in t.proposers}
    keys |= {c.email_key for t in topics for c in t.comments}
    keys |= {b.email_key for b in await uow.ballots.all()}
    for key in sorted(k for k in keys if person_key(k) == wanted):
        await _erase(key, uow)
    return []


# --- helpers -------------------------------------------------------------------------


async def _erase(key: str, uow: Unit) -> None:
    """Everything of the person with this address key: proposer entries, contributions,
    ballot, member records, and the stored outputs that named them."""
    await uow.topics.forget_person(key)
    await uow.ballots.remove(key)
    await uow.members.forget_person(key)
    await uow.forget(key)


def _derived(
    model: type[CloudEvent[Any]],
    data: Any,
    cause: CloudEvent[Any],
    deps: Deps,
    *,
    subject: str | None,
) -> CloudEvent[Any]:
    return model.create(data, source=SOURCE, subject=subject, cause_id=cause.id, time=deps.clock())
