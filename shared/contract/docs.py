"""The contract as documents: JSON Schema per event, AsyncAPI per service.

`python -m shared.contract.docs` writes them under docs/contract/; a test fails when
the committed files drift from the code.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.contract.catalog import EVENTS, INBOUND
from shared.service import asyncapi_document
from shared.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2] / "docs" / "contract"
SCHEMA_ID = "https://caprural.org/pat/contract/schemas/{}.json"


def json_schemas() -> dict[str, str]:
    """File name -> JSON Schema (2020-12) of every event envelope."""
    documents: dict[str, str] = {}
    for event_type, model in sorted(EVENTS.items()):
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID.format(event_type),
            **model.model_json_schema(),
        }
        schema["x-direction"] = "inbound" if model in INBOUND else "produced"
        documents[f"schemas/{event_type}.json"] = (
            json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        )
    return documents


def asyncapi_documents() -> dict[str, str]:
    """File name -> AsyncAPI 3.0 document (YAML) of every service."""
    settings = Settings(kafka_bootstrap_servers="kafka:9092", kafka_topic_prefix="")
    documents: dict[str, str] = {}
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.app")
        app = module.create_app(settings)
        spec = asyncapi_document(app.schema)
        # FastStream's channel order follows set iteration: sort keys for stable files.
        documents[f"asyncapi/{name}.yaml"] = yaml.safe_dump(
            spec, sort_keys=True, allow_unicode=True
        )
    return documents


def documents() -> dict[str, str]:
    """Every generated contract document, by path under docs/contract/."""
    return {**json_schemas(), **asyncapi_documents()}


def write(root: Path = ROOT) -> list[Path]:
    """(Re)write the documents; remove stale ones."""
    expected = documents()
    written = []
    for folder in ("schemas", "asyncapi"):
        for stale in (root / folder).glob("*"):
            if f"{folder}/{stale.name}" not in expected:
                stale.unlink()
    for relative, text in expected.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write()
    sys.stdout.write(f"wrote {len(paths)} contract documents under {ROOT}\n")
