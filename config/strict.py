"""The base of every settings section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A settings section: unknown keys are errors, not silently ignored; values do not change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
