"""The bot's reply catalogue, read from the Rasa domain (``nlu/domain.yml``).

Rasa renders replies it predicts itself, choosing the variant by the ``language`` slot. Custom
actions render here instead, so a reply can already use a language the same action has just
switched to (Rasa would render with the slot value from before the action ran).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


class UnknownResponseError(KeyError):
    pass


class Responses(Protocol):
    """What renders the bot's replies: a fixed catalogue, or the live one of the newest flow version."""

    def names(self) -> list[str]: ...

    def variant(self, name: str, language: str) -> dict[str, Any]: ...

    def render(self, name: str, language: str, **values: Any) -> dict[str, Any]: ...

    def render_with(self, name: str, language: str, values: Mapping[str, Any]) -> dict[str, Any]: ...


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


# --- responses the code sends ------------------------------------------------------------------------

_UNUSED_RESPONSE = re.compile(r"The utterance '([A-Za-z0-9_]+)' is not used in any story or rule")
# EXTERNAL_ intents come from the scheduler, keep_going only from a confirmation's "No" button.
_EXAMPLELESS_INTENT = re.compile(
    r"The intent '(EXTERNAL_[A-Za-z0-9_]+|keep_going)' is listed in the domain file, but is not found in the NLU"
)
_RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]*[a-z0-9]")  # not a prefix such as "utter_ask_"
_CODE_PACKAGES = ("bot", "scheduler")


@functools.lru_cache(maxsize=1)
def responses_named_in_code(root: Path = Path(__file__).resolve().parents[2]) -> frozenset[str]:
    """Every ``utter_*`` name written as a string in the app's Python code: the responses its actions,
    console and scheduler send themselves (Rasa's validator counts only stories and rules)."""
    names: set[str] = set()
    for package in _CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            names.update(
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _RESPONSE_NAME.fullmatch(node.value)
            )
    return frozenset(names)


def expected_validation_warnings(validation_output: str | None) -> list[str]:
    """The names ``rasa data validate`` warns about although nothing is wrong: responses it calls
    unused that the code sends or a form asks with (``utter_ask_<slot>`` / ``utter_ask_<form>_<slot>``,
    by Rasa's convention), and the scheduler's ``EXTERNAL_`` intents, which have no examples by design.
    A warning about any other name (a response nothing sends) is worth reading."""
    text = validation_output or ""
    code = responses_named_in_code()
    names = {n for n in _UNUSED_RESPONSE.findall(text) if n in code or n.startswith("utter_ask_")}
    names.update(_EXAMPLELESS_INTENT.findall(text))
    return sorted(names)
