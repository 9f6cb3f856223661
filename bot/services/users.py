"""Console users: creating them and checking their passwords, with login throttling.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile). Login
attempts are written to ``login_attempts``, and failures inside a sliding window decide whether the
next attempt is even checked:

- per email *and* address: 5 failures lock that email from that address only, so someone guessing
  from elsewhere cannot lock the real user out of their own desk;
- per address: 20 failures lock the address, whatever emails it tries;
- per email from every address: after 5 failures each further attempt must wait a little longer
  after the previous one (2, 4, 8 ... 60 seconds), which slows a guessing botnet to one guess a
  minute while the real user waits at most a minute.

Functions run inside the caller's transaction and do not commit; the caller commits also when
:func:`authenticate` raises, so failed attempts are kept.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import USER_ROLES, LoginAttempt, User
from bot.errors import TagihError
from bot.services.audit import audit

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # longer input is refused, never truncated
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 200
MAX_ADDRESS_CHARS = 64
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL_AND_ADDRESS = 5  # then that email is locked from that address
MAX_FAILURES_PER_ADDRESS = 20  # then the address is locked, whatever email it tries
SLOW_DOWN_AFTER = 5  # failures of an email from any address before each attempt has to wait
SLOW_DOWN_FIRST_SECONDS = 2  # the first wait, doubled at every further failure ...
SLOW_DOWN_MAX_SECONDS = 60  # ... up to this

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class UserError(TagihError):
    """A user could not be created or logged in. ``code`` is machine readable."""

    code = "user_error"


class InvalidUser(UserError):
    """The email, role, name or password given for a new user is not acceptable."""

    code = "invalid_user"


class DuplicateUser(UserError):
    code = "duplicate_user"

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"a user with email {email!r} already exists")


class InvalidCredentials(UserError):
    """Unknown email, wrong password or inactive user: deliberately one error, so a login form
    cannot be used to find out which accounts exist."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class LoginThrottled(UserError):
    """Too many recent failures for this email from this address, from this address, or for this
    email too recently; the password was not checked."""

    code = "login_throttled"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"too many failed logins; try again in {retry_after_seconds} seconds")


# ---------------------------------------------------------------------------------------------------
# Passwords


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    """Verified against for unknown emails, so they take as long as known ones."""
    return _hasher().hash(secrets.token_urlsafe(32))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """False for a wrong password and for a hash argon2 cannot read (never raises for either)."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidUser(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidUser(f"password must be at most {MAX_PASSWORD_CHARS} characters")
    if len(set(password)) == 1:
        raise InvalidUser("password must not be one character repeated")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    """The email in the form it is stored (lower case), or :class:`InvalidUser`."""
    email = normalize_email(email)
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise InvalidUser(f"{email!r} is not an email address")
    return email


# ---------------------------------------------------------------------------------------------------
# Users


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
    actor: str = "system",
) -> User:
    """A new active user with an argon2 hash of ``password``. ``email`` is stored in lower case; a
    second user with the same email raises :class:`DuplicateUser` (after which the caller rolls back)."""
    email = validate_email(email)
    if role not in USER_ROLES:
        raise InvalidUser(f"role must be one of {', '.join(sorted(USER_ROLES))}, not {role!r}")
    if name is not None:
        name = name.strip() or None
    if name is not None and len(name) > MAX_NAME_CHARS:
        raise InvalidUser(f"name must be at most {MAX_NAME_CHARS} characters")
    validate_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DuplicateUser(email)
    user = User(email=email, name=name, role=role, password_hash=hash_password(password), active=True)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created by someone else since the check above
        raise DuplicateUser(email) from exc
    audit(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        details={"email": email, "role": role},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def _recent_failures(
    session: Session, condition: ColumnElement[bool], *, since: datetime, limit: int
) -> list[datetime]:
    """The newest ``limit`` failed attempts after ``since``, newest first."""
    return list(
        session.scalars(
            select(LoginAttempt.at)
            .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
    )


def _since_success(session: Session, condition: ColumnElement[bool], window_start: datetime) -> datetime:
    """Where failures start to count: the last successful login matching ``condition`` in the window,
    else the window's start (a successful login forgives the mistakes before it)."""
    last = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            condition, LoginAttempt.succeeded.is_(True), LoginAttempt.at > window_start
        )
    )
    return max(window_start, last or window_start)


def _lock_seconds(recent: list[datetime], limit: int, now: datetime, *, counted: bool) -> int | None:
    """Seconds until fewer than ``limit`` failures remain in the window (with this attempt when it
    is ``counted``), or None when there are fewer already."""
    failures = [now, *recent] if counted else recent
    if len(recent) < limit:
        return None
    expiring = failures[limit - 1]
    return max(1, math.ceil((expiring + THROTTLE_WINDOW - now).total_seconds()))


def slow_down_seconds(failures: int) -> int:
    """How long after the newest failure an email with ``failures`` recent failures must wait."""
    if failures < SLOW_DOWN_AFTER:
        return 0
    return min(SLOW_DOWN_FIRST_SECONDS * 2 ** (failures - SLOW_DOWN_AFTER), SLOW_DOWN_MAX_SECONDS)


def authenticate(session: Session, *, email: str, password: str, address: str | None, now: datetime) -> User:
    """The active user with this email and password, or :class:`InvalidCredentials`.

    :class:`LoginThrottled` is raised without checking the password when, within
    :data:`THROTTLE_WINDOW`, the email failed :data:`MAX_FAILURES_PER_EMAIL_AND_ADDRESS` times from
    this address (since its last successful login from there: a login elsewhere does not unlock it)
    or the address failed :data:`MAX_FAILURES_PER_ADDRESS` times, or when the email failed
    :data:`SLOW_DOWN_AFTER` times or more from anywhere (since its last successful login) and
    :func:`slow_down_seconds` have not passed since the newest failure.

    An attempt refused by a lock is recorded as a failure, so guessing on from a locked address
    keeps it locked. An attempt refused by the slow-down alone is not recorded: otherwise a flood of
    refused attempts would keep pushing the wait forward and lock the real user out after all.
    Recorded failures of an email are thus at least the slow-down apart, so counting them is enough.

    The attempt is added to ``session`` (when recorded): commit it also when this raises.
    """
    email = normalize_email(email)
    too_long = len(email) > MAX_EMAIL_CHARS  # no such user; recorded cut to the column's size
    email = email[:MAX_EMAIL_CHARS]
    address = address[:MAX_ADDRESS_CHARS] if address else None
    window_start = now - THROTTLE_WINDOW
    same_email = LoginAttempt.email == email
    same_address = LoginAttempt.address == address if address else LoginAttempt.address.is_(None)
    since_success = _since_success(session, same_email, window_start)
    email_failures, newest_failure = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            same_email, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since_success
        )
    ).one()
    slow_down = 0
    if newest_failure is not None and email_failures >= SLOW_DOWN_AFTER:
        ready_at = newest_failure + timedelta(seconds=slow_down_seconds(email_failures))
        slow_down = max(0, math.ceil((ready_at - now).total_seconds()))
    counted = slow_down == 0  # this attempt is recorded unless the slow-down alone turns it away
    by_email_and_address = _recent_failures(
        session,
        same_email & same_address,
        since=_since_success(session, same_email & same_address, window_start),  # not unlocked from elsewhere
        limit=MAX_FAILURES_PER_EMAIL_AND_ADDRESS,
    )
    by_address = (
        _recent_failures(session, same_address, since=window_start, limit=MAX_FAILURES_PER_ADDRESS) if address else []
    )
    locks = [
        wait
        for recent, limit in (
            (by_email_and_address, MAX_FAILURES_PER_EMAIL_AND_ADDRESS),
            (by_address, MAX_FAILURES_PER_ADDRESS),
        )
        if (wait := _lock_seconds(recent, limit, now, counted=counted)) is not None
    ]
    if locks or slow_down:
        if counted:
            session.add(LoginAttempt(email=email, address=address, succeeded=False, at=now))
        raise LoginThrottled(max([*locks, slow_down]))

    user = None if too_long else session.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(_dummy_hash(), password)
        matched = False
    else:
        matched = verify_password(user.password_hash, password)
    succeeded = matched and user is not None and user.active
    session.add(LoginAttempt(email=email, address=address, succeeded=succeeded, at=now))
    if not succeeded or user is None:
        raise InvalidCredentials()
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
