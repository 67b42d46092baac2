"""Where the platform works around FastStream, a test that fails when an upgrade changes
what the workaround relies on (then: review the workaround, keep or drop it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.contract.programme import TopicCommented
from shared.service import Service, asyncapi_document
from shared.settings import Settings
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents, UnitOfWork


@dataclass(frozen=True)
class Deps:
    pass


class ToyUnit(UnitOfWork):
    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))


async def note_comment(event: TopicCommented, uow: ToyUnit, deps: Deps) -> None:
    """Keep a comment."""


async def setup(svc: Service[Deps, ToyUnit], db: Any) -> Deps:
    return Deps()


def toy_service() -> Service[Deps, ToyUnit]:
    settings = Settings(kafka_bootstrap_servers="kafka:9092")
    service: Service[Deps, ToyUnit] = Service(
        "toy", settings, description="Toy.", publishes=[], unit=ToyUnit
    )
    service.consume(TopicCommented, note_comment)
    service.create_app(setup)
    return service


def payload_schema(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    [name] = [n for n in schemas if n.startswith("topic_commented:toy:") and "Payload" in n]
    schema = schemas[name]
    assert isinstance(schema, dict)
    return schema


def test_faststream_documents_a_batch_subscriber_as_an_array_which_the_document_unwraps():
    # The consumer's function is given `list[<event>]` annotations (shared/service.py)
    # so that FastStream documents the event, not `Any`; as a batch subscriber, it says
    # "array of events", which `asyncapi_document` unwraps to the event itself.
    raw = toy_service().specification().to_specification().to_jsonable()
    as_faststream_says = payload_schema(raw)
    assert as_faststream_says["type"] == "array", "the unwrapping may no longer be needed"
    assert as_faststream_says["items"]["$ref"].endswith("/TopicCommented")

    document = asyncapi_document(toy_service().specification())
    assert payload_schema(document)["$ref"].endswith("/TopicCommented")
    message = document["components"]["messages"]["topic_commented:toy:SubscribeMessage"]
    assert "ce_id" in message["headers"]["properties"]  # binary mode documented
    assert message["description"].startswith("Accepted in both content modes")


def test_the_summary_of_a_handler_is_its_docstring_s_first_paragraph():
    document = asyncapi_document(toy_service().specification())
    assert document["channels"]["topic_commented:toy"]["description"] == "Keep a comment."
