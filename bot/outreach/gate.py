"""The collection-rules gate: every business-initiated message passes here before it is sent.

``evaluate`` decides, from the database as it is now, whether a planned nudge may go out now, must
wait (deferred to the next allowed moment, with the reason), or must not go out at all (skipped,
with the reason). Nothing here sends or writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, Debtor, Handoff, InstallmentPlan, Nudge, Promise
from bot.domain.contact_rules import ContactProfile
from bot.services.contact import is_opted_out
from bot.services.policy import active_policy

PRIVATE_CHANNELS = ("whatsapp", "telegram")  # the order is the preference
NO_CHANNEL = (
    "no private channel to reach the debtor on (no WhatsApp number, linked Telegram chat or open web chat page)"
)
RECHECK = timedelta(days=1)


@dataclass(frozen=True)
class Decision:
    verdict: Literal["send", "defer", "skip"]
    reason: str | None = None
    until: datetime | None = None  # for "defer", in UTC
    channel: str | None = None  # for "send"
    address: str | None = None  # the channel's recipient id for "send"


def contact_profile(session: Session) -> ContactProfile:
    """The rules in force: the newest flow version's policy (profile and caps), edited in /admin."""
    return active_policy(session).profile


def _address(debtor: Debtor, channel: str) -> str | None:
    return debtor.phone if channel == "whatsapp" else debtor.telegram_chat_id


def open_page(session: Session, debtor: Debtor, now: datetime) -> str | None:
    """The session id of a web chat page the verified debtor has open right now, if any."""
    return session.scalar(
        select(Conversation.sender_id)
        .where(
            Conversation.channel == "web",
            Conversation.debtor_id == debtor.id,
            Conversation.verified.is_(True),
            Conversation.page_open_until > now,
        )
        .order_by(Conversation.page_open_until.desc())
        .limit(1)
    )


def choose_channel(
    session: Session, debtor: Debtor, channels: Collection[str], *, now: datetime
) -> tuple[str | None, str | None, str]:
    """Where the debtor can be reached and has not opted out: a web chat page they have open right
    now (they are reading there), else the first private channel.

    Returns (channel, address, reason when none)."""
    opted_out = []
    page = open_page(session, debtor, now) if "web" in channels else None
    if page is not None:
        if not is_opted_out(session, channel="web", address=page):
            return "web", page, ""
        opted_out.append("web")
    for channel in PRIVATE_CHANNELS:
        address = _address(debtor, channel)
        if channel not in channels or not address:
            continue
        if is_opted_out(session, channel=channel, address=address):
            opted_out.append(channel)
            continue
        return channel, address, ""
    if opted_out:
        return None, None, f"opted out on {', '.join(opted_out)}"
    return None, None, NO_CHANNEL


def _local_midnight(moment: datetime, tz: ZoneInfo, days: int = 0) -> datetime:
    day = moment.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(timezone.utc)


def sent_counts(session: Session, debtor_id: int, *, now: datetime, tz: ZoneInfo) -> tuple[int, int, datetime | None]:
    """Nudges sent to this debtor today (local) and in the last 7 days, and the oldest in that week."""
    day_start = _local_midnight(now, tz)
    week_start = now - timedelta(days=7)
    today = session.scalar(
        select(func.count(Nudge.id)).where(
            Nudge.debtor_id == debtor_id, Nudge.status == "sent", Nudge.sent_at >= day_start
        )
    )
    week, oldest = session.execute(
        select(func.count(Nudge.id), func.min(Nudge.sent_at)).where(
            Nudge.debtor_id == debtor_id, Nudge.status == "sent", Nudge.sent_at > week_start
        )
    ).one()
    return today or 0, week or 0, oldest


def _open_handoff(session: Session, account: Account) -> Handoff | None:
    conversations = select(Conversation.id).where(Conversation.debtor_id == account.debtor_id)
    return session.scalar(
        select(Handoff)
        .where(
            Handoff.status.in_(("open", "claimed")),
            (Handoff.account_id == account.id) | Handoff.conversation_id.in_(conversations),
        )
        .limit(1)
    )


def evaluate(
    session: Session,
    nudge: Nudge,
    *,
    now: datetime,
    profile: ContactProfile,
    channels: Collection[str],
) -> Decision:
    account = nudge.account
    debtor = nudge.debtor
    tz = ZoneInfo(debtor.timezone)
    local_now = now.astimezone(tz)
    today = local_now.date()

    if account.status in ("paid", "closed") or account.balance <= 0:
        return Decision("skip", f"account {account.status if account.status != 'active' else 'paid'}")
    if account.status == "disputed":
        return Decision("defer", "dispute open: collection paused", until=now + RECHECK)
    handoff = _open_handoff(session, account)
    if handoff is not None:
        return Decision(
            "defer", f"conversation with an agent (handoff {handoff.id} {handoff.status})", until=now + RECHECK
        )
    if nudge.kind == "stage":
        promise = session.scalar(
            select(Promise)
            .where(Promise.account_id == account.id, Promise.status == "pending", Promise.promised_date >= today)
            .order_by(Promise.promised_date.desc())
            .limit(1)
        )
        if promise is not None:
            resume = _local_midnight(now, tz, days=(promise.promised_date - today).days + 1)
            return Decision("defer", f"promise to pay pending until {promise.promised_date.isoformat()}", until=resume)
        plan = session.scalar(
            select(InstallmentPlan.id).where(
                InstallmentPlan.account_id == account.id, InstallmentPlan.status == "active"
            )
        )
        if plan is not None:
            return Decision("skip", "installment plan active: its own reminders apply")
    if nudge.kind == "promise_follow_up":
        promise_id = int(nudge.cycle.removeprefix("p"))
        promise = session.get(Promise, promise_id)
        if promise is None or promise.status != "broken":
            return Decision("skip", "promise no longer broken (kept or replaced)")
    channel, address, why = choose_channel(session, debtor, channels, now=now)
    if channel is None:
        return Decision("skip", why)
    closed = profile.closed_reason(local_now)
    if closed is not None:
        return Decision("defer", closed, until=profile.next_allowed(local_now).astimezone(timezone.utc))
    today_count, week_count, oldest = sent_counts(session, debtor.id, now=now, tz=tz)
    if today_count >= profile.max_per_day:
        resume = profile.next_allowed(_local_midnight(now, tz, days=1).astimezone(tz))
        return Decision(
            "defer", f"daily cap reached ({profile.max_per_day} per day)", until=resume.astimezone(timezone.utc)
        )
    if week_count >= profile.max_per_week and oldest is not None:
        resume = profile.next_allowed((oldest + timedelta(days=7, seconds=1)).astimezone(tz))
        return Decision(
            "defer", f"weekly cap reached ({profile.max_per_week} in 7 days)", until=resume.astimezone(timezone.utc)
        )
    return Decision("send", channel=channel, address=address)
