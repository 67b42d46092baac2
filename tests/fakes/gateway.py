"""The gateway's unit of work in memory (repository.py's twin), and a recording publisher."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.gateway.records import Place, SessionRecord, Stage, UsedLink
from services.gateway.unit import Unit
from shared.contract import CloudEvent, event_model
from shared.kafka import Emission
from tests.fakes.inbox import MemoryProcessedEvents


class MemorySessions:
    def __init__(self) -> None:
        self.by_id: dict[str, SessionRecord] = {}

    async def find(self, session_id: str) -> SessionRecord | None:
        return self.by_id.get(session_id)

    async def save(self, record: SessionRecord) -> None:
        self.by_id[record.session_id] = record

    async def starting_from(self, moment: datetime, *, limit: int) -> list[SessionRecord]:
        found = [s for s in self.by_id.values() if s.starts_at >= moment]
        return sorted(found, key=lambda s: (s.starts_at, s.session_id))[:limit]


class MemoryPlaces:
    def __init__(self) -> None:
        self.by_id: dict[str, Place] = {}

    async def advance(self, place: Place) -> None:
        stored = self.by_id.get(place.participant_id)
        stage = max(place.stage, stored.stage) if stored else place.stage
        self.by_id[place.participant_id] = Place(place.participant_id, place.session_id, stage)

    async def enrolled(self, session_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(session_ids)
        counts: dict[str, int] = {}
        for place in self.by_id.values():
            if place.session_id in wanted and place.stage == Stage.ENROLLED:
                counts[place.session_id] = counts.get(place.session_id, 0) + 1
        return counts


class MemoryUsedLinks:
    def __init__(self) -> None:
        self.by_id: dict[str, UsedLink] = {}

    async def find(self, link_id: str) -> UsedLink | None:
        return self.by_id.get(link_id)

    async def add(self, used: UsedLink) -> None:
        self.by_id.setdefault(used.link_id, used)


class MemoryConfirmations:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], int] = {}

    async def take(self, person: str, hour: datetime, *, limit: int) -> bool:
        self.counts[(person, hour)] = self.counts.get((person, hour), 0) + 1
        return self.counts[(person, hour)] <= limit

    async def forget_person(self, person: str) -> None:
        for key in [k for k in self.counts if k[0] == person]:
            del self.counts[key]


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.sessions = MemorySessions()
        self.places = MemoryPlaces()
        self.links = MemoryUsedLinks()
        self.confirmations = MemoryConfirmations()


class RecordingPublisher:
    """Keeps what the gateway publishes, instead of sending it to Kafka."""

    def __init__(self) -> None:
        self.emissions: list[Emission] = []

    async def publish(self, emissions: Sequence[Emission]) -> None:
        self.emissions.extend(emissions)

    @property
    def events(self) -> list[CloudEvent[Any]]:
        """Every event published, validated against the contract."""
        return [event_model(e.event_type).model_validate_json(e.body) for e in self.emissions]

    def of(self, event_type: str) -> list[dict[str, Any]]:
        """The bodies of the events of one type, as JSON."""
        return [json.loads(e.body) for e in self.emissions if e.event_type == event_type]

    def clear(self) -> None:
        """Forget what was published so far."""
        self.emissions.clear()
