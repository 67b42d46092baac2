"""Handlers: parse, call the rules, store; each returns the Step the batch consumer runs.

The consumer (shared/consumer.py) runs a batch's steps in one MongoDB transaction with
the inbox records of their CloudEvent ids, publishes the events they return, then
commits the offsets: a redelivered event re-publishes the same events, nothing more.
A handler raising `PoisonMessage` (before or inside its work) is dead-lettered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.programme.domain import (
    Ballot,
    Comment,
    MemberState,
    Proposer,
    author_names,
    check_ballot,
    display_name,
    email_key,
    member_transition,
    new_topic,
    person_tag,
    programme_id_for,
    supersedes,
    title_key,
)
from services.programme.ranking import Candidate, programme_topics, rank_topics
from services.programme.repository import ProgrammeRepository
from shared.contract import CloudEvent
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
from shared.errors import PoisonMessage, TransientFailure
from shared.inbox import Inbox, Step

SOURCE = "urn:caprural:programme"

Clock = Callable[[], datetime]
Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once by the service's composition root."""

    inbox: Inbox
    repository: ProgrammeRepository
    clock: Clock


# --- topics --------------------------------------------------------------------------


async def accept_topic(event: TopicProposed, deps: Deps) -> Step:
    """Store a new topic, or attach the proposal to the topic with the same title."""
    data = event.data
    if not title_key(data.title):
        raise PoisonMessage(f"title {data.title!r} has no letter or digit")
    key = email_key(data.proposed_by.email)
    proposer = Proposer(
        email=data.proposed_by.email,
        email_key=key,
        name=data.proposed_by.name,
        origin=data.origin,
        event_id=event.id,
        proposed_at=event.time,
    )
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        topic = await repo.topic_by_key(title_key(data.title), session=session)
        duplicate_of = topic.topic_id if topic else None
        if topic is None:
            topic = new_topic(
                event_id=event.id,
                title=data.title,
                question=data.question,
                description=data.description,
                proposer=proposer,
            )
            await repo.insert_topic(topic, session=session)
        else:
            await repo.add_proposer(topic, proposer, session=session)
        accepted = TopicAcceptedData(
            topic_id=topic.topic_id,
            title=topic.title,
            question=topic.question,
            proposed_by=data.proposed_by,
            origin=data.origin,
            duplicate_of=duplicate_of,
        )
        return [_derived(TopicAccepted, accepted, event, deps, subject=topic.topic_id)]

    return Step(event, work, keys=[person_tag(key)])


async def record_comment(event: TopicCommented, deps: Deps) -> Step:
    """Append a contribution to its topic (unknown topic: dead-lettered)."""
    data = event.data
    key = email_key(data.email)
    comment = Comment(event_id=event.id, email_key=key, comment=data.comment, at=event.time)
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        topic = await repo.topic(data.topic_id, session=session)
        if topic is None:
            raise PoisonMessage(f"unknown topic {data.topic_id!r}")
        if not topic.accepts_comments:
            raise PoisonMessage(f"topic {data.topic_id!r} holds the most comments it can")
        await repo.add_comment(topic.topic_id, comment, session=session)
        return []

    return Step(event, work, keys=[person_tag(key)])


# --- ballots and the programme ---------------------------------------------------------


async def cast_vote(event: TopicVoteCast, deps: Deps) -> Step:
    """Store a member's ballot (replacing the earlier one) or refuse it whole."""
    data = event.data
    key = email_key(data.email)
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        rejection = check_ballot(
            data.ranking,
            is_member=await repo.is_active_member(key, session=session),
            known_topics=await repo.existing_topic_ids(data.ranking, session=session),
        )
        if rejection is not None:
            refused = BallotRejectedData(
                email=data.email, reason=rejection.reason, detail=rejection.detail
            )
            return [_derived(BallotRejected, refused, event, deps, subject=_email_subject(key))]
        if supersedes(event.time, await repo.ballot(key, session=session)):
            ballot = Ballot(key, tuple(data.ranking), event.time, event.id)
            await repo.save_ballot(ballot, session=session)
        return []

    return Step(event, work, keys=[person_tag(key)])


async def publish_programme(event: ProgrammePublicationRequested, deps: Deps) -> Step:
    """Rank the topics from the stored ballots and publish the year's next version."""
    data = event.data
    repo = deps.repository
    # The record holds the authors' names: tag it with them, for erasure.
    known_authors = await repo.comment_authors()

    async def work(session: AsyncClientSession) -> Emitted:
        topics = await repo.topics(session=session)
        if not topics:
            raise PoisonMessage("no topic has been proposed yet")
        ballots = [b.ranking for b in await repo.ballots(session=session)]
        candidates = [Candidate(t.topic_id, t.proposed_at) for t in topics]
        ranking = rank_topics(candidates, ballots)
        by_id = {t.topic_id: t for t in topics}
        names = author_names(topics, await repo.member_names(session=session))
        chosen = programme_topics(ranking, by_id, size=data.sessions, names=names)
        authors = {c.email_key for t in chosen for c in by_id[t.topic_id].comments}
        if not authors <= known_authors:
            raise TransientFailure("a contribution arrived during the publication")
        version = await repo.latest_version(data.year, session=session) + 1
        programme_id = programme_id_for(event.id)
        await repo.insert_programme(
            programme_id=programme_id,
            year=data.year,
            version=version,
            event_id=event.id,
            ranking=ranking,
            ballots=ballots,
            candidates=[(c.topic_id, c.proposed_at) for c in candidates],
            session=session,
        )
        published = ProgrammePublishedData(
            programme_id=programme_id,
            year=data.year,
            version=version,
            topics=chosen,
            ballots=len(ballots),
        )
        subject = f"programme-{data.year}"
        return [_derived(ProgrammePublished, published, event, deps, subject=subject)]

    return Step(event, work, keys=[person_tag(k) for k in known_authors])


# --- the members projection ----------------------------------------------------------


async def record_member(event: MemberRegistered, deps: Deps) -> Step:
    """A member joined: they may vote (unless they were erased meanwhile)."""
    data = event.data
    key = email_key(data.email)
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        current = await repo.member(data.member_id, session=session)
        if current is not None and current.status == "erased":
            # The erasure overtook the registration: erase what this address left here.
            await _erase(key, deps, session=session)
            return []
        state = member_transition(current, status="active", at=event.time)
        await repo.save_member(
            data.member_id,
            state or current or MemberState("active", event.time),
            email_key=key,
            name=display_name(data.first_name, data.last_name),
            session=session,
        )
        return []

    return Step(event, work, keys=[person_tag(key)])


async def record_departure(event: MemberLeft, deps: Deps) -> Step:
    """A member left: their ballot no longer counts and they cannot vote."""
    data = event.data
    key = email_key(data.email)
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        current = await repo.member(data.member_id, session=session)
        state = member_transition(current, status="left", at=event.time)
        if state is None:
            return []
        # A registration seen earlier gave the full name; otherwise keep the first name.
        name = data.first_name if current is None else None
        await repo.save_member(data.member_id, state, email_key=key, name=name, session=session)
        await repo.delete_ballot(key, session=session)
        return []

    return Step(event, work, keys=[person_tag(key)])


async def erase_member(event: MemberErased, deps: Deps) -> Step:
    """Erase every personal datum of a former member (RGPD)."""
    member_id = event.data.member_id
    repo = deps.repository

    async def work(session: AsyncClientSession) -> Emitted:
        key = await repo.member_email_key(member_id, session=session)
        if key is not None:
            await _erase(key, deps, session=session)
        await repo.tombstone_member(member_id, MemberState("erased", event.time), session=session)
        return []

    return Step(event, work)


async def _erase(key: str, deps: Deps, *, session: AsyncClientSession) -> None:
    await deps.repository.erase_person(key, session=session)
    await deps.inbox.forget([person_tag(key)], session=session)


# --- helpers -------------------------------------------------------------------------


def _derived(
    model: type[CloudEvent[Any]],
    data: Any,
    cause: CloudEvent[Any],
    deps: Deps,
    *,
    subject: str | None,
) -> CloudEvent[Any]:
    return model.create(data, source=SOURCE, subject=subject, cause_id=cause.id, time=deps.clock())


def _email_subject(key: str) -> str | None:
    """The voter's address as the message key, when it fits an identifier."""
    return key if len(key) <= 100 else None
