"""The error tree: every error our code raises on purpose is a ``TagihError`` with a meaning, mapped to
an HTTP answer once (``bot/web/app.py``) and to a CLI message by the command that called. Channel
errors (a forged webhook, a platform refusing a message) stay in ``channels.base``.

| error | means | HTTP |
|---|---|---|
| ``NotFoundError`` | a referenced record does not exist | 404 |
| ``InvalidInputError`` | the input cannot be used; ``problems`` lists every reason, in one shape | 422 |
| ``PolicyError`` | an ``InvalidInputError``: the request breaks the collection or arrangement policy | 422 |
| ``DocumentError`` | an ``InvalidInputError``: a configuration document (ladder, policy, flow set) is unusable | 422 |
| ``ConflictError`` | the request conflicts with the current state | 409 |
| ``ForbiddenError`` | the user may not do this | 403 |
| ``UnavailableError`` | something we depend on is down (``DialogueUnavailableError``: the Rasa server) | 503 |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class TagihError(Exception):
    """Base of every error the services raise on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: what, and where when it is known (the physical line of a file,
    header = 1; the field or the path of a document)."""

    line: int | None
    field: str | None
    message: str

    @classmethod
    def of(cls, message: str, *, field: str | None = None, line: int | None = None) -> Problem:
        return cls(line, field, message)

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        where += [self.field] if self.field else []
        return ": ".join([*where, self.message])

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}


class NotFoundError(TagihError, LookupError):
    """A referenced record does not exist."""


class InvalidInputError(TagihError, ValueError):
    """The input cannot be used and nothing was written; ``problems`` lists every reason at once.
    ``code`` is machine readable, for the API and the dialogue."""

    code = "invalid_input"

    def __init__(self, problems: Iterable[Problem | str], summary: str | None = None) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem.of(p) for p in problems]
        super().__init__(summary or "; ".join(str(p) for p in self.problems) or self.code)


class PolicyError(InvalidInputError):
    """A request breaks the configured collection or arrangement policy.

    ``code`` is machine readable (e.g. ``too_far``) so dialogue and API can explain it.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__([message or code])
        self.code = code


class DocumentError(InvalidInputError):
    """A configuration document (the reminder ladder, the collection policy, the flow set) is not
    usable; ``problems`` lists every reason at once."""

    code = "invalid_document"


class ConflictError(TagihError):
    """The request conflicts with the current state (e.g. a handoff another agent has claimed)."""


class ForbiddenError(TagihError):
    """The user may not do this (e.g. reply in a conversation claimed by someone else)."""


class UnavailableError(TagihError):
    """Something the request needs is down; trying again later may work."""


class DialogueUnavailableError(UnavailableError):
    """The Rasa server could not be reached or answered with an error."""
