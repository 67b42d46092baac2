"""The hostile-input corpus, drawn in a background process from the start of the run.

Drawing ~11,000 messages with hypothesis costs about 35 s of CPU, and most of the suite
waits on I/O: the draw runs at low priority beside the other tests (the machine has two
cores) instead of in front of the scenario. Everything a message names is fixed before
the draw: the recipients' mark, and the known topic's id (derived from the id of the
proposal the scenario publishes first).
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from services.programme.domain import topic_id_for
from tests.reliability.people import token

HOSTILE_INBOUND = 1_000
"""On the topics other systems publish to, the front door: every kind of mutation (many
stay valid: hostile text, odd dates, unknown fields)."""
REFUSED_INBOUND = int(os.environ.get("CAPRURAL_FUZZ_EVENTS", "9000"))
"""On the same topics, only what the contract refuses: garbage and broken fields, each to
be dead-lettered with its reason (the valid ones above are what fans emails out: the
scenario measures robustness, not throughput)."""
HOSTILE_INTERNAL = 1_000
"""On the topics the services publish to each other."""


@dataclass(frozen=True)
class Names:
    """What the corpus names: the recipients' mark, the seed proposal and its topic."""

    mark: str
    proposal_id: str

    @property
    def topic_id(self) -> str:
        """The topic the seed proposal becomes once accepted."""
        return topic_id_for(self.proposal_id)


def draw(names: Names) -> list[object]:
    """Every hostile message (runs in the background process)."""
    from tests.reliability.fuzz import INTERNAL_TYPES, draw_messages, edge_cases

    os.nice(10)  # the tests in the foreground come first
    mark, topic_id = names.mark, names.topic_id
    hostile = draw_messages(HOSTILE_INBOUND, mark=mark, topic_id=topic_id)
    hostile += draw_messages(REFUSED_INBOUND, mark=mark, topic_id=topic_id, refused_only=True)
    hostile += draw_messages(HOSTILE_INTERNAL, mark=mark, topic_id=topic_id, types=INTERNAL_TYPES)
    hostile += edge_cases(mark, topic_id=topic_id)
    return list(hostile)


class Background:
    """The corpus being drawn (started once, when the hostile scenario is collected)."""

    names = Names(mark=token(), proposal_id=str(uuid.uuid4()))
    _future: Future[list[object]] | None = None
    _pool: ProcessPoolExecutor | None = None

    @classmethod
    def start(cls) -> None:
        """Start drawing (no effect when started already)."""
        if cls._future is None:
            cls._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
            cls._future = cls._pool.submit(draw, cls.names)

    @classmethod
    def result(cls) -> list[object]:
        """The corpus (waits for the draw to finish)."""
        cls.start()
        assert cls._future is not None
        try:
            return cls._future.result()
        finally:
            if cls._pool is not None:
                cls._pool.shutdown()
