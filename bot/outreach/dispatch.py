"""Dispatch: claim due nudges, pass each through the rules gate, and send it exactly once.

A worker claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the claiming UPDATE runs
alone because SQLite has one writer at a time) and leases them for ``lease`` seconds. For each claimed
row, one transaction re-reads the state, asks the gate, and either defers/skips it with the reason,
or writes the outbound message and marks the row ``sent``. The reminder is recorded in the Rasa
conversation (``trigger_intent``) before that transaction commits. A worker that dies after claiming
leaves a lease that runs out, and the row is claimed again: nothing is lost, and since the message
row and the ``sent`` mark commit together, nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from anyio import to_thread
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Debtor, Nudge
from bot.domain.contact_rules import ContactProfile
from bot.domain.dates import format_date
from bot.domain.money import format_money
from bot.errors import DialogueUnavailableError
from bot.outreach.gate import Decision, contact_profile, evaluate, sent_counts
from bot.outreach.ladder import Ladder, Wording, active_ladder
from bot.services.audit import audit
from bot.services.conversations import get_or_create_conversation, record_outbound
from bot.services.handoffs import open_handoff
from bot.services.identity import link_conversation
from bot.settings import Settings

logger = logging.getLogger(__name__)
REMINDER_INTENT = "EXTERNAL_reminder"
MAX_ATTEMPTS = 5


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    nudge_id: int
    rasa_sender: str
    entities: dict[str, str]
    channel: str
    address: str


def claim(
    session_factory: sessionmaker[Session], *, now: datetime, worker: str, limit: int, lease: timedelta
) -> list[int]:
    """Claim up to ``limit`` due rows (planned and due, or claimed with an expired lease)."""
    with session_factory.begin() as session:
        due = (
            select(Nudge.id)
            .where(
                or_(
                    (Nudge.status == "planned") & (Nudge.not_before <= now),
                    (Nudge.status == "claimed") & (Nudge.claimed_until < now),
                )
            )
            .order_by(Nudge.not_before, Nudge.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(Nudge)
            .where(Nudge.id.in_(ids))
            .values(status="claimed", claimed_by=worker, claimed_until=now + lease, updated_at=now)
        )
        return ids


def _values(account: Account, nudge: Nudge, language: str, company: str, now: datetime) -> dict[str, str]:
    values = {
        "name": account.debtor.name,
        "company_name": company,
        "ref": account.ref,
        "amount": format_money(account.balance, account.currency, language),
        "due_date": format_date(account.due_date, language),
        "days_past_due": str(account.days_past_due(now)),
    }
    if nudge.kind == "promise_follow_up":
        promise = next(p for p in account.promises if f"p{p.id}" == nudge.cycle)
        values["promise_amount"] = format_money(promise.amount, account.currency, language)
        values["promise_date"] = format_date(promise.promised_date, language)
    if nudge.kind == "installment_reminder":
        installment = next(i for plan in account.plans for i in plan.installments if f"i{i.id}" == nudge.cycle)
        values["installment_amount"] = format_money(installment.amount, account.currency, language)
        values["installment_date"] = format_date(installment.due_date, language)
        values["installment_number"] = str(installment.seq)
    return values


def _wording(ladder: Ladder, nudge: Nudge) -> tuple[Wording, str] | None:
    if nudge.kind == "promise_follow_up":
        return ladder.promise_follow_up, "send"
    if nudge.kind == "installment_reminder":
        return ladder.installment_reminder, "send"
    stage = ladder.stage(nudge.stage)
    return (stage.wording, stage.action) if stage else None


class Dispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        ladder: Callable[[Session], Ladder],
        profile: ContactProfile | Callable[[Session], ContactProfile],
        channels: Collection[str],
        trigger: Callable[[str, str, dict[str, Any]], Awaitable[Any]],
        company_name: str,
        worker: str,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 200,
        concurrency: int | None = None,
    ) -> None:
        self._sessions = session_factory
        self._ladder = ladder
        # The rules in force: fixed, or read per transaction (the admin-edited policy applies live).
        self._profile = profile if callable(profile) else (lambda _session: profile)
        self._channels = channels
        self._trigger = trigger
        self._company = company_name
        self._worker = worker
        self._lease = lease
        self._batch = batch
        postgres = session_factory.kw["bind"].dialect.name == "postgresql"
        self._concurrency = concurrency or (8 if postgres else 1)

    def _decide(self, session: Session, nudge: Nudge, now: datetime) -> Decision:
        return evaluate(session, nudge, now=now, profile=self._profile(session), channels=self._channels)

    def _mine(self, session: Session, nudge_id: int, now: datetime) -> Nudge | None:
        nudge = session.get(Nudge, nudge_id)
        if nudge is None or nudge.status != "claimed" or nudge.claimed_by != self._worker:
            return None
        if nudge.claimed_until is not None and nudge.claimed_until < now:
            return None  # the lease ran out: another worker may have it now
        return nudge

    def _settle(
        self, session: Session, nudge: Nudge, decision: Decision, now: datetime, report: DispatchReport
    ) -> None:
        nudge.claimed_by, nudge.claimed_until = None, None
        nudge.reason = decision.reason
        if decision.verdict == "defer":
            nudge.status = "planned"
            nudge.not_before = decision.until or now + timedelta(hours=1)
            report.deferred.append((nudge.id, decision.reason or ""))
        else:
            nudge.status = "skipped"
            report.skipped.append((nudge.id, decision.reason or ""))
        audit(
            session,
            actor="scheduler",
            action=f"nudge.{'deferred' if decision.verdict == 'defer' else 'skipped'}",
            entity_type="nudge",
            entity_id=nudge.id,
            details={"stage": nudge.stage, "reason": decision.reason, "until": nudge.not_before.isoformat()},
        )

    def _prepare(self, nudge_id: int, now: datetime, report: DispatchReport) -> _Prepared | None:
        """First transaction: gate; for a send, make sure the conversation exists and is linked."""
        with self._sessions.begin() as session:
            nudge = self._mine(session, nudge_id, now)
            if nudge is None:
                return None
            decision = self._decide(session, nudge, now)
            if decision.verdict != "send":
                self._settle(session, nudge, decision, now, report)
                return None
            account = nudge.account
            conversation, _ = get_or_create_conversation(
                session, channel=decision.channel or "", sender_id=decision.address or "", language=None
            )
            if not conversation.verified or conversation.debtor_id != account.debtor_id:
                link_conversation(session, conversation, account.debtor, how=f"{conversation.channel}_on_file", now=now)
            conversation.account_id = account.id
            entities = {
                "reminder_stage": nudge.stage,
                "reminder_amount": str(account.balance),
                "reminder_due_date": account.due_date.isoformat(),
            }
            return _Prepared(
                nudge.id, conversation.rasa_sender_id, entities, decision.channel or "", decision.address or ""
            )

    def _still_clear(self, session: Session, nudge: Nudge, now: datetime) -> bool:
        """The cheap part of the gate that can change while Rasa is called: account state and caps."""
        if nudge.account.status != "active":
            return False
        today, week, _ = sent_counts(session, nudge.debtor_id, now=now, tz=ZoneInfo(nudge.debtor.timezone))
        profile = self._profile(session)
        return today < profile.max_per_day and week < profile.max_per_week

    def _send(self, prepared: _Prepared, now: datetime, report: DispatchReport) -> None:
        """Second transaction: lock the debtor, re-check, write the message and mark the nudge sent."""
        with self._sessions.begin() as session:
            nudge = self._mine(session, prepared.nudge_id, now)
            if nudge is None:
                return
            session.execute(select(Debtor.id).where(Debtor.id == nudge.debtor_id).with_for_update())
            decision = Decision("send", channel=prepared.channel, address=prepared.address)
            if not self._still_clear(session, nudge, now):
                decision = self._decide(session, nudge, now)  # the full gate gives the reason
                if decision.verdict != "send":
                    self._settle(session, nudge, decision, now, report)
                    return
            account = nudge.account
            chosen = _wording(self._ladder(session), nudge)
            if chosen is None:
                nudge.status, nudge.reason = "skipped", f"stage {nudge.stage!r} is no longer in the ladder"
                nudge.claimed_by, nudge.claimed_until = None, None
                report.skipped.append((nudge.id, nudge.reason))
                return
            wording, action = chosen
            conversation, _ = get_or_create_conversation(
                session, channel=decision.channel or "", sender_id=decision.address or ""
            )
            language = conversation.language or account.debtor.language
            values = _values(account, nudge, language, self._company, now)
            text = self._profile(session).with_footer(wording.text(language, values), language)
            template = {
                "name": wording.template.name,
                "language": wording.template.language(language),
                "parameters": list(wording.template_parameters(values)),
            }
            (message,) = record_outbound(
                session,
                conversation,
                [{"text": text, "template": template, "nudge_id": nudge.id}],
                author="system",
                delivery_status="queued",
            )
            nudge.status, nudge.sent_at, nudge.channel = "sent", now, conversation.channel
            nudge.message_id, nudge.reason = message.id, None
            nudge.claimed_by, nudge.claimed_until = None, None
            if action == "send_and_handoff":
                open_handoff(session, conversation=conversation, reason="final_notice", note=f"stage {nudge.stage}")
            audit(
                session,
                actor="scheduler",
                action="nudge.sent",
                entity_type="nudge",
                entity_id=nudge.id,
                conversation_id=conversation.id,
                details={"stage": nudge.stage, "channel": conversation.channel, "message_id": message.id},
            )
            report.sent.append(nudge.id)
            report.message_ids.append(message.id)

    def _retry_later(self, nudge_id: int, now: datetime, error: str, report: DispatchReport) -> None:
        with self._sessions.begin() as session:
            nudge = self._mine(session, nudge_id, now)
            if nudge is None:
                return
            nudge.attempts += 1
            nudge.claimed_by, nudge.claimed_until = None, None
            nudge.reason = error
            if nudge.attempts >= MAX_ATTEMPTS:
                nudge.status = "failed"
                report.failed.append((nudge.id, error))
            else:
                nudge.status = "planned"
                nudge.not_before = now + timedelta(minutes=5 * 2 ** (nudge.attempts - 1))
                report.deferred.append((nudge.id, error))

    async def _process_one(self, nudge_id: int, now: datetime, report: DispatchReport) -> None:
        prepared = await to_thread.run_sync(self._prepare, nudge_id, now, report)
        if prepared is None:
            return
        try:
            await self._trigger(prepared.rasa_sender, REMINDER_INTENT, prepared.entities)
        except DialogueUnavailableError as exc:
            error = f"dialogue engine unavailable: {exc}"
            await to_thread.run_sync(self._retry_later, nudge_id, now, error, report)
            return
        await to_thread.run_sync(self._send, prepared, now, report)

    async def process(self, nudge_ids: Sequence[int], now: datetime, report: DispatchReport) -> None:
        """Process claimed rows, ``concurrency`` at a time (PostgreSQL; SQLite has one writer)."""
        pending = list(nudge_ids)
        while pending:
            chunk, pending = pending[: self._concurrency], pending[self._concurrency :]
            await asyncio.gather(*(self._process_one(nudge_id, now, report) for nudge_id in chunk))

    async def run_once(self, now: datetime) -> DispatchReport:
        """Claim and process everything due at ``now``, batch after batch."""
        report = DispatchReport()
        while True:
            ids = await to_thread.run_sync(
                lambda: claim(self._sessions, now=now, worker=self._worker, limit=self._batch, lease=self._lease)
            )
            if not ids:
                return report
            await self.process(ids, now, report)


def build_dispatcher(
    settings: Settings, session_factory: sessionmaker[Session], *, channels: list[str], trigger: Callable, worker: str
) -> Dispatcher:
    """A dispatcher reading the ladder and the policy in force for every run."""
    return Dispatcher(
        session_factory,
        ladder=active_ladder,
        profile=contact_profile,
        channels=channels,
        trigger=trigger,
        company_name=settings.company_name,
        worker=worker,
        batch=settings.nudge_batch,
    )
