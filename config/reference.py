"""Generate the settings reference (docs/configuration.md) from the settings model."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.settings import Settings


def setting_paths(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every setting as ``(dotted.path, field)``; list items are written ``name[]``."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, field
        for inner, suffix in _nested(field.annotation):
            yield from setting_paths(inner, f"{path}{suffix}.")


def _nested(annotation: object) -> Iterator[tuple[type[BaseModel], str]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _nested(typing.get_args(annotation)[0])
    elif origin in (list, tuple):
        for arg in typing.get_args(annotation):
            for model, _ in _nested(arg):
                yield model, "[]"
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _nested(arg)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ""


def markdown_table() -> str:
    rows = ["| setting | default | description |", "|---|---|---|"]
    seen = set()
    for path, field in setting_paths():
        if path in seen:
            continue
        seen.add(path)
        default = "required" if field.is_required() else _default(field)
        rows.append(f"| `{path}` | {default} | {field.description or ''} |")
    return "\n".join(rows)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "" if isinstance(value, BaseModel) else f"`{value}`"
    return f"`{field.default}`"


if __name__ == "__main__":
    print(markdown_table())
