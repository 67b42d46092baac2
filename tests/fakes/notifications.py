"""The notifications service's unit of work in memory (recipients.py and deliveries.py's
planning side, twins)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.notifications.deliveries import delivery_documents
from services.notifications.domain import Recipient
from services.notifications.recipients import without_author
from services.notifications.records import (
    Dispatch,
    Interest,
    Member,
    Participation,
    ProgrammeVersion,
    SessionVersion,
)
from services.notifications.unit import Unit
from tests.fakes.inbox import MemoryProcessedEvents


@dataclass
class StoredParticipation:
    participation: Participation
    as_of: datetime


class MemoryRecipients:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.participations: dict[str, StoredParticipation] = {}
        self.sessions: dict[str, SessionVersion] = {}
        self.programmes: dict[int, ProgrammeVersion] = {}
        self.interests: dict[str, Interest] = {}
        self.expert_states: dict[tuple[str, str], tuple[Recipient, str]] = {}

    async def add_member(self, member_id: str, recipient: Recipient) -> bool:
        if member_id in self.members:
            return False
        self.members[member_id] = Member(member_id, recipient)
        return True

    async def member(self, member_id: str) -> Member | None:
        return self.members.get(member_id)

    async def mark_left(self, member_id: str, recipient: Recipient) -> None:
        known = self.members.get(member_id)
        if known is not None and known.erased:
            self.members[member_id] = replace(known, left=True)
            return
        names = known.recipient if known and known.recipient else None
        person = Recipient(
            recipient.email,
            recipient.first_name or (names.first_name if names else None),
            recipient.last_name or (names.last_name if names else None),
        )
        self.members[member_id] = Member(member_id, person, left=True)

    async def mark_erased(self, member_id: str) -> Member | None:
        known = self.members.get(member_id)
        self.members[member_id] = Member(member_id, None, left=True, erased=True)
        return known

    async def active_members(self) -> list[Recipient]:
        return [
            replace(m.recipient, audience="member")
            for _, m in sorted(self.members.items())
            if not m.left and m.recipient is not None
        ]

    async def save_participation(self, participation: Participation, *, as_of: datetime) -> bool:
        known = self.participations.get(participation.participant_id)
        if known is not None and known.as_of > as_of:
            return False
        person = participation.recipient or (known.participation.recipient if known else None)
        reason = participation.reason or (known.participation.reason if known else None)
        merged = replace(participation, recipient=person, reason=reason)
        self.participations[participation.participant_id] = StoredParticipation(merged, as_of)
        return True

    async def participants(self, session_id: str, statuses: Sequence[str]) -> list[Recipient]:
        chosen = [
            stored
            for stored in self.participations.values()
            if stored.participation.session_id == session_id
            and stored.participation.status in statuses
            and stored.participation.recipient is not None
        ]
        chosen.sort(key=lambda stored: stored.as_of)
        return [s.participation.recipient for s in chosen if s.participation.recipient]

    async def withdraw_person(self, email_key: str, *, as_of: datetime) -> None:
        for participant_id, stored in list(self.participations.items()):
            person = stored.participation.recipient
            if person is not None and person.key == email_key and stored.as_of <= as_of:
                withdrawn = replace(stored.participation, status="withdrawn", reason="member_left")
                self.participations[participant_id] = StoredParticipation(withdrawn, as_of)

    async def forget_participations(self, email_key: str) -> None:
        for participant_id, stored in list(self.participations.items()):
            person = stored.participation.recipient
            if person is not None and person.key == email_key:
                del self.participations[participant_id]

    async def enrolled(self, session_id: str) -> int:
        return sum(
            1
            for stored in self.participations.values()
            if stored.participation.session_id == session_id
            and stored.participation.status == "enrolled"
        )

    async def forget_person(self, person: str) -> None:
        for participant_id, stored in list(self.participations.items()):
            someone = stored.participation.recipient
            if someone is not None and someone.person == person:
                del self.participations[participant_id]
        self.interests.pop(person, None)
        for key in [k for k in self.expert_states if k[1] == person]:
            del self.expert_states[key]

    async def save_interest(self, interest: Interest) -> None:
        self.interests[interest.recipient.person] = interest

    async def remove_interest(self, person: str) -> None:
        self.interests.pop(person, None)

    async def experts(
        self, session_id: str, statuses: Sequence[str] = ("accepted",)
    ) -> list[Recipient]:
        return [
            replace(person, audience="expert")
            for (session, _), (person, status) in sorted(self.expert_states.items())
            if session == session_id and status in statuses
        ]

    async def save_expert(self, session_id: str, expert: Recipient, status: str) -> None:
        self.expert_states[(session_id, expert.person)] = (expert, status)

    async def interested_in(self, topic_id: str | None) -> list[Recipient]:
        return [
            replace(self.interests[person].recipient, audience="interested")
            for person in sorted(self.interests)
            if self.interests[person].wants(topic_id)
        ]

    async def session(self, session_id: str) -> SessionVersion | None:
        return self.sessions.get(session_id)

    async def save_session(self, version: SessionVersion) -> None:
        known = self.sessions.get(version.session_id)
        cancelled = version.cancelled or bool(known and known.cancelled)
        self.sessions[version.session_id] = replace(version, cancelled=cancelled)

    async def upcoming_sessions(self, now: datetime) -> list[SessionVersion]:
        live = [s for s in self.sessions.values() if not s.cancelled and s.starts_at > now]
        return sorted(live, key=lambda s: s.starts_at)

    async def programme(self, year: int) -> ProgrammeVersion | None:
        return self.programmes.get(year)

    async def save_programme(self, version: ProgrammeVersion) -> None:
        self.programmes[version.year] = version

    async def current_programmes(self, year: int) -> list[ProgrammeVersion]:
        return [self.programmes[y] for y in sorted(self.programmes) if y >= year]

    async def forget_author(self, author_id: str) -> None:
        for year, version in self.programmes.items():
            self.programmes[year] = replace(version, data=without_author(version.data, author_id))


class MemoryDeliveries:
    """Contents and deliveries as the documents MongoDB would hold."""

    def __init__(self) -> None:
        self.contents: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}

    async def plan(self, dispatch: Dispatch, *, now: datetime) -> int:
        content, deliveries = delivery_documents(
            dispatch, now=now, batch=f"{dispatch.content_id}/{len(self.deliveries)}"
        )
        if not deliveries:
            return 0
        self.contents.setdefault(content["_id"], content)
        new = [doc for doc in deliveries if doc["_id"] not in self.deliveries]
        for doc in new:
            self.deliveries[doc["_id"]] = doc
        return len(new)

    async def cancel_pending(self, person: str, *, kinds: Sequence[str], keep: bool) -> int:
        cancelled = 0
        for doc in self.deliveries.values():
            if (
                doc["recipient_key"] == person
                and doc["status"] == "pending"
                and (doc["kind"] not in kinds if keep else doc["kind"] in kinds)
            ):
                doc.update(status="cancelled", announced=True)
                cancelled += 1
        return cancelled

    async def cancel_pending_to_others(
        self, cause_id: str, kind: str, *, keep: Sequence[str]
    ) -> int:
        cancelled = 0
        for doc in self.deliveries.values():
            if (
                doc["cause_id"] == cause_id
                and doc["kind"] == kind
                and doc["status"] == "pending"
                and doc["recipient_key"] not in keep
            ):
                doc.update(status="cancelled", announced=True)
                cancelled += 1
        return cancelled

    async def erase_person(self, person: str) -> None:
        for doc in self.deliveries.values():
            if doc["recipient_key"] != person:
                continue
            if doc["status"] == "pending" or not doc["announced"]:
                doc.update(erase_after_send=True, scrub=True)
            else:
                doc.update(recipient_key="erased", erased=True)
                doc.pop("recipient", None)
        for content_id, content in list(self.contents.items()):
            waiting = any(
                d["content_id"] == content_id and d["status"] == "pending"
                for d in self.deliveries.values()
            )
            if person in content["keys"] and not waiting:
                del self.contents[content_id]

    async def forget_author(self, author_id: str) -> None:
        for content in self.contents.values():
            content["data"] = without_author(content["data"], author_id)

    def to(self, address: str) -> list[dict[str, Any]]:
        """The deliveries to one address (test helper)."""
        person = Recipient(address).person
        return [d for d in self.deliveries.values() if d["recipient_key"] == person]


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.recipients = MemoryRecipients()
        self.deliveries = MemoryDeliveries()
