"""Identity checks that cannot be guessed, and answers that are never kept.

A sender who is not proven to be the debtor (web chat, an unknown number) names an account reference
and answers with a date of birth and, where the debtor can be reached on a channel on file, a one-time
code sent there. The app reads those answers *before* the dialogue sees them (:func:`screen`): the
dialogue and both databases get an opaque token (``/inform{"identity_check": "<token>"}``) and a
masked text, never the date or the code.

Every wrong answer counts against the reference as typed (whether or not such an account exists, so
the replies are the same either way), the client address and the conversation. Past a few free ones
each further wrong answer doubles the wait before the next is even looked at; at the reference's limit
it is locked for date-of-birth checks until the lock runs out or an agent clears it; at the address's
limit the address is stopped for the window. With the second factor in force the reply to a date of
birth is the same whether it was right or wrong ("if the details match, we sent a code"), so guessing
dates teaches nothing without the debtor's phone. docs/security.md has the numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, Debtor, IdentityAttempt, IdentityChallenge, IdentityLock
from bot.domain.dates import MONTHS, parse_birth_date
from bot.domain.phones import e164, looks_like_phone
from bot.errors import NotFoundError
from bot.services.audit import audit
from bot.services.identity import account_by_ref, debtor_by_phone, normalise_ref, primary_account

IDENTITY_ENTITY = "identity_check"
MASK_BIRTH_DATE = "[tanggal lahir disamarkan · date of birth hidden]"
MASK_CODE = "[kode verifikasi disamarkan · verification code hidden]"
MASK_DATE = "[tanggal disamarkan]"
MIN_AGE_YEARS = 17  # a date of birth names an adult; later dates in a message are left alone
CODE_DIGITS = 6
WINDOW = timedelta(hours=24)
CHALLENGE_TTL = timedelta(minutes=30)

Reply = Literal["verified", "code_prompt", "mismatch", "code_mismatch", "code_failed", "expired", "throttled", "locked"]


@dataclass(frozen=True)
class IdentityLimits:
    per_conversation: int = 3
    per_account: int = 5
    per_address: int = 10
    free: int = 2
    delay: timedelta = timedelta(seconds=30)
    lock: timedelta = timedelta(hours=24)
    second_factor: Literal["auto", "required", "off"] = "auto"
    code_ttl: timedelta = timedelta(minutes=10)
    code_attempts: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> IdentityLimits:
        return cls(
            per_conversation=settings.max_identity_attempts,
            per_account=settings.identity_account_failures,
            per_address=settings.identity_address_failures,
            free=settings.identity_free_failures,
            delay=timedelta(seconds=settings.identity_delay_seconds),
            lock=timedelta(hours=settings.identity_lock_hours),
            second_factor=settings.identity_second_factor,
            code_ttl=timedelta(minutes=settings.identity_code_minutes),
            code_attempts=settings.identity_code_attempts,
        )


@dataclass(frozen=True)
class CodeDelivery:
    """A one-time code to send to the debtor's own channel (after the transaction commits)."""

    channel: str
    address: str
    code: str
    language: str
    debtor_id: int


@dataclass(frozen=True)
class Screened:
    """What to store and what to tell the dialogue instead of the message as typed."""

    stored_text: str
    dialogue_text: str
    answer: Literal["birth_date", "code", "date"] | None = None
    delivery: CodeDelivery | None = None


@dataclass(frozen=True)
class Reach:
    """Where a code can go on the channels this server has: the WhatsApp number on file, else the
    linked Telegram chat."""

    channels: frozenset[str] = frozenset()

    @classmethod
    def on(cls, channels: Collection[str]) -> Reach:
        return cls(frozenset(channels) & {"whatsapp", "telegram"})

    def __call__(self, debtor: Debtor) -> tuple[str, str] | None:
        if "whatsapp" in self.channels and debtor.phone:
            return "whatsapp", debtor.phone
        if "telegram" in self.channels and debtor.telegram_chat_id:
            return "telegram", debtor.telegram_chat_id
        return None


def token_message(token: str) -> str:
    """The dialogue's view of an identity answer: Rasa reads a leading ``/`` as intent + entities."""
    return "/inform" + json.dumps({IDENTITY_ENTITY: token}, separators=(",", ":"))


def forged_identity_message(text: str) -> bool:
    """A debtor typing the app's own token syntax: refused, so tokens only ever come from the app."""
    return text.lstrip().startswith("/") and IDENTITY_ENTITY in text


# -- challenges: what the bot is waiting for --------------------------------------------------------


def current_challenge(session: Session, conversation: Conversation) -> IdentityChallenge | None:
    """The open challenge of a conversation (possibly expired: the answer is then told so)."""
    return session.scalar(
        select(IdentityChallenge)
        .where(IdentityChallenge.conversation_id == conversation.id, IdentityChallenge.closed_at.is_(None))
        .order_by(IdentityChallenge.id.desc())
        .limit(1)
    )


def open_challenge(session: Session, conversation: Conversation, *, ref: str, now: datetime) -> IdentityChallenge:
    """The bot is about to ask for the date of birth for ``ref``: read the next answer against it."""
    for old in session.scalars(
        select(IdentityChallenge).where(
            IdentityChallenge.conversation_id == conversation.id, IdentityChallenge.closed_at.is_(None)
        )
    ):
        old.closed_at = now
    account = account_by_ref(session, ref)
    if account is None and looks_like_phone(ref):
        # no contract number at hand: the phone number on file names the debtor (and their most
        # overdue account); wrong answers count against the number as typed, like a reference
        number = e164(ref)
        debtor = debtor_by_phone(session, number) if number else None
        account = primary_account(debtor, now=now) if debtor is not None else None
    challenge = IdentityChallenge(
        conversation_id=conversation.id,
        step="birth_date",
        ref_key=normalise_ref(ref)[:64],
        account_id=account.id if account else None,
        attempts=0,
        created_at=now,
        expires_at=now + CHALLENGE_TTL,
    )
    session.add(challenge)
    session.flush()
    return challenge


def close_challenges(session: Session, conversation: Conversation, *, now: datetime) -> None:
    for challenge in session.scalars(
        select(IdentityChallenge).where(
            IdentityChallenge.conversation_id == conversation.id, IdentityChallenge.closed_at.is_(None)
        )
    ):
        challenge.closed_at = now


# -- counting ---------------------------------------------------------------------------------------


def _failures_since(session: Session, column: Any, key: str, since: datetime) -> tuple[int, datetime | None]:
    count, last = session.execute(
        select(func.count(IdentityAttempt.id), func.max(IdentityAttempt.at)).where(
            column == key, IdentityAttempt.outcome == "mismatch", IdentityAttempt.at > since
        )
    ).one()
    return int(count or 0), last


def _ref_baseline(session: Session, ref_key: str, now: datetime) -> datetime:
    """Failures for a reference count from the latest of: the window's start, its last successful
    check (the owner proved themselves), the end of its last lock, an agent clearing it."""
    since = now - WINDOW
    last_ok = session.scalar(
        select(func.max(IdentityAttempt.at)).where(
            IdentityAttempt.ref_key == ref_key, IdentityAttempt.outcome == "verified"
        )
    )
    for lock in session.scalars(select(IdentityLock).where(IdentityLock.ref_key == ref_key)):
        ended = lock.cleared_at if lock.cleared_at is not None else lock.locked_until
        if ended <= now:
            since = max(since, ended)
    return max(since, last_ok) if last_ok is not None else since


def active_lock(session: Session, ref_key: str, now: datetime) -> IdentityLock | None:
    return session.scalar(
        select(IdentityLock)
        .where(IdentityLock.ref_key == ref_key, IdentityLock.cleared_at.is_(None), IdentityLock.locked_until > now)
        .order_by(IdentityLock.id.desc())
        .limit(1)
    )


def conversation_failures(session: Session, conversation: Conversation, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(IdentityAttempt.id)).where(
                IdentityAttempt.conversation_id == conversation.id,
                IdentityAttempt.outcome == "mismatch",
                IdentityAttempt.at > now - WINDOW,
            )
        )
        or 0
    )


def _wait(failures: int, last: datetime | None, limits: IdentityLimits, now: datetime) -> timedelta:
    """The growing delay: nothing for the free failures, then the base delay doubling each time."""
    if last is None or failures <= limits.free:
        return timedelta(0)
    delay = limits.delay * (2 ** min(failures - limits.free - 1, 20))
    return max(timedelta(0), last + delay - now)


def _gate(
    session: Session, *, ref_key: str, address: str, limits: IdentityLimits, now: datetime
) -> tuple[Reply, timedelta] | None:
    """Why an answer may not be looked at now (locked reference, stopped or slowed address/reference)."""
    if active_lock(session, ref_key, now) is not None:
        return "locked", timedelta(0)
    address_failures, address_last = _failures_since(session, IdentityAttempt.address, address, now - WINDOW)
    if address_failures >= limits.per_address:
        oldest = session.scalar(
            select(func.min(IdentityAttempt.at)).where(
                IdentityAttempt.address == address,
                IdentityAttempt.outcome == "mismatch",
                IdentityAttempt.at > now - WINDOW,
            )
        )
        return "throttled", (oldest + WINDOW - now) if oldest else WINDOW
    ref_failures, ref_last = _failures_since(
        session, IdentityAttempt.ref_key, ref_key, _ref_baseline(session, ref_key, now)
    )
    wait = max(
        _wait(address_failures, address_last, limits, now),
        _wait(ref_failures, ref_last, limits, now),
    )
    return ("throttled", wait) if wait > timedelta(0) else None


def _after_failure(
    session: Session, *, ref_key: str, account_id: int | None, limits: IdentityLimits, now: datetime
) -> None:
    """Lock the reference once it reached its limit (every address that tried is kept for agents)."""
    failures, _ = _failures_since(session, IdentityAttempt.ref_key, ref_key, _ref_baseline(session, ref_key, now))
    if failures < limits.per_account or active_lock(session, ref_key, now) is not None:
        return
    addresses = sorted(
        set(
            session.scalars(
                select(IdentityAttempt.address).where(
                    IdentityAttempt.ref_key == ref_key,
                    IdentityAttempt.outcome == "mismatch",
                    IdentityAttempt.at > now - WINDOW,
                )
            )
        )
    )
    lock = IdentityLock(
        ref_key=ref_key,
        account_id=account_id,
        failures=failures,
        addresses=addresses[:50],
        locked_at=now,
        locked_until=now + limits.lock,
    )
    session.add(lock)
    session.flush()
    audit(
        session,
        actor="bot",
        action="identity.locked",
        entity_type="account" if account_id else "reference",
        entity_id=str(account_id) if account_id else ref_key,
        details={"failures": failures, "addresses": len(addresses), "until": lock.locked_until.isoformat()},
    )


# -- answering ----------------------------------------------------------------------------------------


def _code_hash(secret: str, challenge_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"identity-code:{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _record(
    session: Session,
    conversation: Conversation,
    challenge: IdentityChallenge,
    *,
    address: str,
    factor: str,
    outcome: str,
    reply: Reply,
    now: datetime,
    wait: timedelta | None = None,
) -> IdentityAttempt:
    attempt = IdentityAttempt(
        at=now,
        conversation_id=conversation.id,
        channel=conversation.channel,
        address=address[:128],
        ref_key=challenge.ref_key,
        account_id=challenge.account_id,
        factor=factor,
        outcome=outcome,
        reply=reply,
        wait_seconds=int(wait.total_seconds()) + 1 if wait else None,
        token=secrets.token_urlsafe(24),
    )
    session.add(attempt)
    session.flush()
    return attempt


def _verified(
    session: Session, conversation: Conversation, challenge: IdentityChallenge, account: Account, *, how: str
) -> None:
    conversation.verified = True
    conversation.account_id = account.id
    conversation.debtor_id = account.debtor_id
    audit(
        session,
        actor="bot",
        action="identity.verified",
        entity_type="account",
        entity_id=account.ref,
        conversation_id=conversation.id,
        details={"how": how, "channel": conversation.channel},
    )


def answer_birth_date(
    session: Session,
    conversation: Conversation,
    challenge: IdentityChallenge,
    born: date,
    *,
    address: str,
    limits: IdentityLimits,
    reach: Reach,
    secret: str,
    now: datetime,
) -> tuple[IdentityAttempt, CodeDelivery | None]:
    record = partial(_record, session, conversation, challenge, address=address, now=now)
    blocked = _gate(session, ref_key=challenge.ref_key, address=address, limits=limits, now=now)
    if blocked is not None:
        reply, wait = blocked
        attempt = record(factor="birth_date", outcome=reply, reply=reply, wait=wait)
        challenge.closed_at = now
        return attempt, None
    account = session.get(Account, challenge.account_id) if challenge.account_id else None
    match = account is not None and account.debtor.birth_date == born
    target = reach(account.debtor) if account is not None else None
    second_factor = limits.second_factor == "required" or (
        limits.second_factor == "auto" and (target is not None or (account is None and bool(reach.channels)))
    )
    if not second_factor:
        if match and account is not None:
            _verified(session, conversation, challenge, account, how="birth_date")
            challenge.closed_at = now
            attempt = record(factor="birth_date", outcome="verified", reply="verified")
            return attempt, None
        attempt = record(factor="birth_date", outcome="mismatch", reply="mismatch")
        challenge.closed_at = now
        _after_failure(session, ref_key=challenge.ref_key, account_id=challenge.account_id, limits=limits, now=now)
        return attempt, None
    # Second factor: the same reply whether the date was right or not; only a right one gets a code.
    challenge.step = "code"
    challenge.attempts = 0
    challenge.expires_at = now + limits.code_ttl
    delivery = None
    if match and account is not None and target is not None:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge.code_hash = _code_hash(secret, challenge.id, code)
        challenge.destination = f"{target[0]}:…{target[1][-2:]}"
        delivery = CodeDelivery(target[0], target[1], code, account.debtor.language, account.debtor_id)
        outcome = "code_sent"
    else:
        challenge.code_hash = None  # nothing can match
        outcome = "code_unavailable" if match else "mismatch"
    attempt = record(factor="birth_date", outcome=outcome, reply="code_prompt")
    if outcome == "mismatch":
        _after_failure(session, ref_key=challenge.ref_key, account_id=challenge.account_id, limits=limits, now=now)
    return attempt, delivery


def answer_code(
    session: Session,
    conversation: Conversation,
    challenge: IdentityChallenge,
    code: str,
    *,
    address: str,
    limits: IdentityLimits,
    secret: str,
    now: datetime,
) -> IdentityAttempt:
    record = partial(_record, session, conversation, challenge, address=address, now=now)
    if challenge.expires_at <= now:
        challenge.closed_at = now
        return record(factor="code", outcome="expired", reply="expired")
    blocked = _gate(session, ref_key=challenge.ref_key, address=address, limits=limits, now=now)
    if blocked is not None:
        reply, wait = blocked
        challenge.closed_at = now
        return record(factor="code", outcome=reply, reply=reply, wait=wait)
    right = challenge.code_hash is not None and hmac.compare_digest(
        challenge.code_hash, _code_hash(secret, challenge.id, code)
    )
    account = session.get(Account, challenge.account_id) if challenge.account_id else None
    if right and account is not None:
        _verified(session, conversation, challenge, account, how="birth_date+code")
        challenge.closed_at = now
        return record(factor="code", outcome="verified", reply="verified")
    challenge.attempts += 1
    final = challenge.attempts >= limits.code_attempts
    if final:
        challenge.closed_at = now
    attempt = record(factor="code", outcome="mismatch", reply="code_failed" if final else "code_mismatch")
    _after_failure(session, ref_key=challenge.ref_key, account_id=challenge.account_id, limits=limits, now=now)
    return attempt


def take_attempt(session: Session, conversation: Conversation, token: str, *, now: datetime) -> IdentityAttempt | None:
    """The answer a token stands for, once, and only in the conversation it was given in."""
    attempt = session.scalar(
        select(IdentityAttempt).where(
            IdentityAttempt.token == token,
            IdentityAttempt.conversation_id == conversation.id,
            IdentityAttempt.consumed_at.is_(None),
        )
    )
    if attempt is not None:
        attempt.consumed_at = now
    return attempt


def code_attempts_left(challenge: IdentityChallenge | None, limits: IdentityLimits) -> int:
    return max(0, limits.code_attempts - (challenge.attempts if challenge else limits.code_attempts))


# -- reading messages before the dialogue does -------------------------------------------------------

_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_LIKE = re.compile(
    r"(?<!\d)\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)"
    rf"|(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?\s*(?:of\s+)?(?:{_MONTH_WORDS})\.?[\s,-]*\d{{4}}(?!\d)"
    rf"|\b(?:{_MONTH_WORDS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\s*,?\s*\d{{4}}(?!\d)"
    r"|(?<!\d)\d{8}(?!\d)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
_CODE = re.compile(rf"(?<!\d)(\d(?:[\s-]?\d){{{CODE_DIGITS - 1}}})(?!\d)")


def _adult_birth_date(text: str, today: date) -> date | None:
    compact = text.strip()
    if compact.isdigit() and len(compact) == 8:  # 03091992: day, month, year
        compact = f"{compact[:2]}-{compact[2:4]}-{compact[4:]}"
    born = parse_birth_date(compact, today=today)
    if born is None:
        return None
    try:
        adult = born.replace(year=born.year + MIN_AGE_YEARS) <= today
    except ValueError:  # 29 February
        adult = born.replace(year=born.year + MIN_AGE_YEARS, day=28) <= today
    return born if adult else None


def redact_birth_dates(text: str, today: date) -> str:
    """The text with every date that could be a date of birth masked (outside an identity step, an
    unverified sender may still type one: it is kept by neither database)."""
    return _DATE_LIKE.sub(lambda m: MASK_DATE if _adult_birth_date(m.group(0), today) else m.group(0), text)


def find_birth_date(text: str, today: date) -> date | None:
    for match in _DATE_LIKE.finditer(text):
        born = _adult_birth_date(match.group(0), today)
        if born is not None:
            return born
    return None


def find_code(text: str) -> str | None:
    match = _CODE.search(text)
    return re.sub(r"\D", "", match.group(1)) if match else None


def mask_digits(text: str) -> str:
    return _DIGITS.sub("•", text)


def screen(
    session: Session,
    conversation: Conversation,
    text: str,
    *,
    address: str,
    limits: IdentityLimits,
    reach: Reach,
    secret: str,
    now: datetime,
    today: date,
) -> Screened | None:
    """Read an unverified sender's message before the dialogue: an answer to the identity step under
    way is checked here and replaced by a token; any other date of birth is masked. None: pass the
    message on as typed."""
    if conversation.verified:
        return None
    challenge = current_challenge(session, conversation)
    if challenge is None or (challenge.step == "birth_date" and challenge.expires_at <= now):
        redacted = redact_birth_dates(text, today)
        return Screened(redacted, redacted, answer="date") if redacted != text else None
    if challenge.step == "birth_date":
        born = find_birth_date(text, today)
        if born is None:
            if _DIGITS.search(text):  # a date we cannot read may still be one: keep no digits of it
                masked = mask_digits(text)
                return Screened(masked, masked, answer="date")
            return None  # a question in the middle of the check: the dialogue answers it
        attempt, delivery = answer_birth_date(
            session, conversation, challenge, born, address=address, limits=limits, reach=reach, secret=secret, now=now
        )
        return Screened(MASK_BIRTH_DATE, token_message(attempt.token or ""), "birth_date", delivery)
    code = find_code(text)
    if code is None:
        if _DIGITS.search(text):
            masked = mask_digits(text)
            return Screened(masked, masked, answer="code")
        return None
    attempt = answer_code(
        session, conversation, challenge, code, address=address, limits=limits, secret=secret, now=now
    )
    return Screened(MASK_CODE, token_message(attempt.token or ""), "code")


# -- for agents ----------------------------------------------------------------------------------------


def account_security(session: Session, account: Account, *, now: datetime) -> dict[str, Any]:
    """What agents see about identity checks on an account: recent failures and any lock."""
    ref_key = normalise_ref(account.ref)
    failures = session.execute(
        select(func.count(IdentityAttempt.id), func.count(func.distinct(IdentityAttempt.address))).where(
            or_(IdentityAttempt.account_id == account.id, IdentityAttempt.ref_key == ref_key),
            IdentityAttempt.outcome == "mismatch",
            IdentityAttempt.at > now - WINDOW,
        )
    ).one()
    lock = active_lock(session, ref_key, now)
    return {
        "failed_checks_24h": int(failures[0] or 0),
        "addresses_24h": int(failures[1] or 0),
        "lock": None
        if lock is None
        else {
            "id": lock.id,
            "locked_at": lock.locked_at.isoformat(),
            "locked_until": lock.locked_until.isoformat(),
            "failures": lock.failures,
            "addresses": len(lock.addresses or []),
        },
    }


def active_locks(session: Session, *, now: datetime) -> list[IdentityLock]:
    """Locks of real accounts in force (references that do not exist lock too, but concern no one)."""
    return list(
        session.scalars(
            select(IdentityLock)
            .where(
                IdentityLock.account_id.is_not(None),
                IdentityLock.cleared_at.is_(None),
                IdentityLock.locked_until > now,
            )
            .order_by(IdentityLock.locked_at.desc())
        )
    )


def clear_lock(session: Session, lock_id: int, *, by: str, now: datetime) -> IdentityLock:
    lock = session.get(IdentityLock, lock_id)
    if lock is None or lock.account_id is None:
        raise NotFoundError(f"no identity lock {lock_id}")
    if lock.cleared_at is None:
        lock.cleared_at = now
        lock.cleared_by = by
        audit(
            session,
            actor=by,
            action="identity.lock_cleared",
            entity_type="account",
            entity_id=str(lock.account_id),
            details={"lock": lock.id},
        )
    return lock


@dataclass(frozen=True)
class IdentityScreen:
    """:func:`screen` with a deployment's limits, channels and secret: what every inbound pipeline
    calls on a message before storing it for good and handing it to the dialogue."""

    limits: IdentityLimits
    reach: Reach
    secret: str
    clock: Callable[[], datetime]
    timezone: str = "Asia/Jakarta"

    @classmethod
    def from_settings(cls, settings: Any, channels: Collection[str], clock: Callable[[], datetime]) -> IdentityScreen:
        return cls(
            IdentityLimits.from_settings(settings),
            Reach.on(channels),
            settings.secret("secret_key"),
            clock,
            settings.default_timezone,
        )

    def __call__(self, session: Session, conversation: Conversation, text: str, *, address: str) -> Screened | None:
        now = self.clock()
        today = now.astimezone(ZoneInfo(self.timezone)).date()
        if forged_identity_message(text):  # only the app writes identity tokens
            text = text.lstrip().lstrip("/")
            return self(session, conversation, text, address=address) or Screened(text, text)
        if conversation.status != "bot":  # a person owns it: nothing to check, but nothing kept either
            if conversation.verified:
                return None
            redacted = redact_birth_dates(text, today)
            return Screened(redacted, redacted, answer="date") if redacted != text else None
        return screen(
            session,
            conversation,
            text,
            address=address,
            limits=self.limits,
            reach=self.reach,
            secret=self.secret,
            now=now,
            today=today,
        )
