"""The bot's reply catalogue, read from the Rasa domain (``nlu/domain.yml``).

Rasa renders replies it predicts itself, choosing the variant by the ``language`` slot. Custom
actions render here instead, so a reply can already use a language the same action has just
switched to (Rasa would render with the slot value from before the action ran).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


class UnknownResponseError(KeyError):
    pass


class ResponseCatalogue:
    def __init__(self, responses: Mapping[str, list[dict[str, Any]]]) -> None:
        self._responses = dict(responses)

    @classmethod
    def from_domain(cls, path: Path) -> ResponseCatalogue:
        with path.open(encoding="utf-8") as handle:
            domain = yaml.safe_load(handle) or {}
        return cls(domain.get("responses") or {})

    def names(self) -> list[str]:
        return sorted(self._responses)

    def variant(self, name: str, language: str) -> dict[str, Any]:
        try:
            variants = self._responses[name]
        except KeyError as exc:
            raise UnknownResponseError(name) from exc
        fallback: dict[str, Any] | None = None
        for variant in variants:
            conditions = variant.get("condition") or []
            if not conditions:
                fallback = fallback or variant
                continue
            if all(c.get("name") == "language" and c.get("value") == language for c in conditions):
                return variant
        if fallback is None:
            return variants[0]
        return fallback

    def render(self, name: str, language: str, **values: Any) -> dict[str, Any]:
        """Return ``{"text": ..., "buttons": [...]}`` with placeholders filled.

        A placeholder without a value is left as written rather than failing the reply.
        """
        return self.render_with(name, language, values)

    def render_with(self, name: str, language: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``render`` with the values as a mapping (any key, e.g. all of a tracker's slots)."""
        variant = self.variant(name, language)
        message: dict[str, Any] = {"text": _fill(variant.get("text", ""), values)}
        if variant.get("buttons"):
            message["buttons"] = [
                {"title": _fill(b["title"], values), "payload": _fill(b["payload"], values)} for b in variant["buttons"]
            ]
        return message


def _fill(template: str, values: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(values[key]) if key in values and values[key] is not None else match.group(0)

    return _PLACEHOLDER.sub(replace, template)
