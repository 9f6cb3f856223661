"""Domain error tree, mapped to HTTP responses once in the web layer."""

from __future__ import annotations


class TagihError(Exception):
    """Base of every error the services raise on purpose."""


class NotFoundError(TagihError, LookupError):
    """A referenced record does not exist."""


class PolicyError(TagihError):
    """A request breaks the configured collection or arrangement policy.

    ``code`` is machine readable (e.g. ``too_far``) so dialogue and API can explain it.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class DialogueUnavailableError(TagihError):
    """The Rasa server could not be reached or answered with an error."""


class ConflictError(TagihError):
    """The request conflicts with the current state (e.g. a handoff another agent has claimed)."""


class ForbiddenError(TagihError):
    """The user may not do this (e.g. reply in a conversation claimed by someone else)."""


class DocumentError(ValueError):
    """A configuration document (the reminder ladder, the collection policy) is not usable;
    ``problems`` lists every reason at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
