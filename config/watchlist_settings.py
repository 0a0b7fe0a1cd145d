"""Watchlists (``watchlists:`` in the config): the entities, queries and risk terms an item is matched by."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.query import parse
from config.sources import NAME_PATTERN
from config.strict import Strict


class Entity(Strict):
    name: str = Field(description="Canonical name of the company, person or brand; also matched as a term.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names in any script (e.g. 'Nova Mart', '诺瓦商城'). Latin aliases match "
        "case-insensitively on word boundaries; Chinese aliases match anywhere.",
    )
    ambiguous: list[str] = Field(
        default_factory=list,
        description="Aliases that are also common words (e.g. '苹果', the fruit): they count only when the "
        "item also contains one of `require_any`.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Exclusion contexts: a mention within `exclude_window` characters of one of these "
        "phrases (or inside one, like 'Apple Daily') is not counted.",
    )
    exclude_window: int = Field(
        default=12, ge=0, le=500, description="Characters either side of a mention searched for exclusions."
    )
    require_any: list[str] = Field(
        default_factory=list,
        description="Co-terms for ambiguous names: mentions by `ambiguous` aliases (or, when there are none, "
        "by every alias) count only if the item contains one of these.",
    )


class Watchlist(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Short identifier used in filters and digests.")
    kind: Literal["company", "policy", "industry", "other"] = Field(
        default="company", description="What the watchlist follows; used to group the digest."
    )
    title: str | None = Field(default=None, description="Human title shown in digests (defaults to name).")
    entities: list[Entity] = Field(default_factory=list, description="Entities whose mentions hit this list.")
    query: str | None = Field(
        default=None,
        description='Boolean query (AND, OR, NOT, "phrases", NEAR/n, parentheses) that also hits this list.',
    )
    risk_terms: list[str] | None = Field(
        default=None,
        description="Words that make an item about this list risky (recall, fine, 召回 ...), matched like "
        "aliases: whole words in Latin script, anywhere in Chinese, case-insensitive. Empty list: none; "
        "unset: the defaults for the list's `kind` (docs/risk.md lists them).",
    )
    risk_exclude: list[str] = Field(
        default_factory=list,
        description="Exclusion contexts for risk terms (e.g. 'fine print'): a risk term within 12 "
        "characters of one is not counted; added to the defaults' own exclusions.",
    )

    @model_validator(mode="after")
    def _needs_something(self) -> Watchlist:
        if not self.entities and not self.query:
            raise ValueError("a watchlist needs `entities` or a `query`")
        return self

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse(value)
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name
