"""The tolerant reader: which fields of a payload the contract does not know.

Payload models ignore unknown fields (a producer may add fields before the platform
knows them); this names what was ignored, so that it can be logged and counted.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


def unknown_fields(model: Any, value: Any, *, prefix: str) -> list[str]:
    """Dotted paths of the keys of `value` that `model` (a pydantic model) does not declare."""
    return list(_unknown(model, value, prefix))


def _unknown(model: Any, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict) or not _is_model(model):
        return
    fields = model.model_fields
    for name, item in value.items():
        if name not in fields:
            yield f"{path}.{name}"
            continue
        annotation = fields[name].annotation
        for nested in _models_in(annotation):
            if isinstance(item, list):
                for element in item:
                    yield from _unknown(nested, element, f"{path}.{name}[]")
            else:
                yield from _unknown(nested, item, f"{path}.{name}")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if _is_model(annotation):
        return [annotation]
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple) or origin is not None:
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)
