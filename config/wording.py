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
        self._patterns = {
            key: re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template)) + "$")
            for key, template in templates.items()
        }

    def __getitem__(self, key: str) -> str:
        return self.templates[key]

    def parts(self, text: str) -> tuple[str, dict[str, str]] | None:
        """The template ``text`` was written with, and its values; None for a text written otherwise."""
        for key, pattern in self._patterns.items():
            found = pattern.match(text)
            if found:
                return key, found.groupdict()
        return None
