"""Texts written from templates in English, and read back so that another language can say them."""

from __future__ import annotations

import re
from collections.abc import Mapping


class Templates:
    """Named templates (``"{n} more risk terms ({terms})"``): a text written with one of them is read back
    as the template's name and its values (:meth:`parts`), so that another language's wording of the same
    template can be filled in."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self.templates = dict(templates)
        self._order = sorted(
            templates, key=lambda key: len(re.sub(r"\{\w+\}", "", templates[key])), reverse=True
        )
        """Most words of its own first: where several fit a text, the most specific wrote it."""
        self._patterns = {
            key: re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template)) + "$")
            for key, template in templates.items()
        }

    def __getitem__(self, key: str) -> str:
        return self.templates[key]

    def parts(self, text: str) -> tuple[str, dict[str, str]] | None:
        """The template ``text`` was written with, and its values; None for a text written otherwise. Where
        several fit (``{watchlist}: coverage {kind}`` fits what ``{watchlist}: coverage turned negative``
        wrote), the one with the most words of its own."""
        for key in self._order:
            found = self._patterns[key].match(text)
            if found:
                return key, found.groupdict()
        return None
