"""The memo the steps of one transaction attempt share (shared.inbox.attempt_memo)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.contract.programme import TopicCommented
from shared.inbox import Inbox, Step, attempt_memo
from tests.harness.kafka import cloudevent

pytestmark = pytest.mark.integration


def event() -> TopicCommented:
    data = {"topic_id": "t-1", "email": "camille@cc-exemple.fr", "comment": "Oui."}
    return TopicCommented.model_validate(cloudevent("topic_commented", data))


async def test_the_steps_of_a_batch_share_one_memo_and_each_batch_starts_with_an_empty_one(
    mongo,
):
    db = mongo[f"memo_{uuid.uuid4().hex[:8]}"]
    inbox = Inbox(mongo, db)
    seen: list[dict[str, Any]] = []

    async def work(session: Any) -> list[Any]:
        memo = attempt_memo()
        memo.setdefault("reads", 0)
        memo["reads"] += 1
        seen.append(memo)
        return []

    await inbox.process_batch([Step(event(), work), Step(event(), work)])
    await inbox.process_batch([Step(event(), work)])

    assert seen[0] is seen[1]
    assert seen[0] == {"reads": 2}
    assert seen[2] is not seen[0]
    assert seen[2] == {"reads": 1}
    outside = attempt_memo()
    outside["x"] = 1
    assert attempt_memo() == {}  # outside a batch, nothing is kept
