"""Planning: which nudges are due, written once each to the ``nudges`` outbox.

Ladder stages are planned set-wise in SQL (one INSERT ... SELECT per timezone and stage, conflicts
on the unique (account, stage, cycle) key ignored), so a run over a million accounts does not load
them into memory. Promise follow-ups and installment reminders are few and planned row by row.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Debtor, Installment, InstallmentPlan, Nudge, Promise
from bot.outreach.ladder import Ladder, active_ladder
from bot.services.audit import audit


@dataclass
class PlanReport:
    stages: dict[str, int] = field(default_factory=dict)
    promise_follow_ups: int = 0
    installment_reminders: int = 0
    promises_broken: int = 0
    plans_broken: int = 0

    @property
    def planned(self) -> int:
        return sum(self.stages.values()) + self.promise_follow_ups + self.installment_reminders


def _insert(session: Session):  # noqa: ANN202 - dialect-specific Insert
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Nudge)


def _execute_counting(session: Session, statement: Any) -> int:
    """Run an INSERT ... ON CONFLICT DO NOTHING and return how many rows it added.

    psycopg reports no row count for INSERT ... SELECT, so on PostgreSQL the insert runs as a
    data-modifying CTE that the server counts (the ids never travel to the app)."""
    if session.get_bind().dialect.name == "postgresql":
        inserted = statement.returning(Nudge.id).cte("inserted")
        return session.scalar(select(func.count()).select_from(inserted)) or 0
    return max(typing.cast("CursorResult[Any]", session.execute(statement)).rowcount or 0, 0)


def _local_dates(session: Session, now: datetime) -> dict[str, date]:
    zones = session.scalars(select(Debtor.timezone).distinct())
    return {tz: now.astimezone(ZoneInfo(tz)).date() for tz in zones}


def plan_stages(session: Session, ladder: Ladder, *, now: datetime, report: PlanReport) -> None:
    columns = ["account_id", "debtor_id", "kind", "stage", "cycle", "status", "not_before", "attempts"]
    columns += ["created_at", "updated_at"]
    for tz, today in _local_dates(session, now).items():
        for stage, first, following in ladder.windows():
            latest_due = today - timedelta(days=first)
            conditions = [
                Debtor.timezone == tz,
                Account.status == "active",
                Account.due_date <= latest_due,
            ]
            if following is not None:
                conditions.append(Account.due_date > today - timedelta(days=following))
            chosen = (
                select(
                    Account.id,
                    Account.debtor_id,
                    literal("stage"),
                    literal(stage.key),
                    cast(Account.due_date, String),
                    literal("planned"),
                    literal(now, Nudge.not_before.type),
                    literal(0),
                    literal(now, Nudge.created_at.type),
                    literal(now, Nudge.updated_at.type),
                )
                .join(Debtor, Debtor.id == Account.debtor_id)
                .where(and_(*conditions))
            )
            statement = _insert(session).from_select(columns, chosen).on_conflict_do_nothing()
            added = _execute_counting(session, statement)
            if added:
                report.stages[stage.key] = report.stages.get(stage.key, 0) + added


def _add_once(session: Session, **values: object) -> bool:
    return bool(_execute_counting(session, _insert(session).values(**values).on_conflict_do_nothing()))


def plan_promise_follow_ups(session: Session, ladder: Ladder, *, now: datetime, report: PlanReport) -> None:
    """A pending promise whose date has passed (debtor's local date) is broken and followed up."""
    rows = session.execute(
        select(Promise, Debtor.timezone)
        .join(Account, Account.id == Promise.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Promise.status.in_(("pending", "broken")), Account.status == "active")
    ).all()
    for promise, tz in rows:
        today = now.astimezone(ZoneInfo(tz)).date()
        if promise.status == "pending":
            if promise.promised_date >= today:
                continue
            promise.status = "broken"
            report.promises_broken += 1
            audit(
                session,
                actor="scheduler",
                action="promise.broken",
                entity_type="promise",
                entity_id=promise.id,
                details={"promised_date": promise.promised_date.isoformat()},
            )
        if promise.promised_date + timedelta(days=ladder.promise_days_after) > today:
            continue
        if _add_once(
            session,
            account_id=promise.account_id,
            debtor_id=promise.account.debtor_id,
            kind="promise_follow_up",
            stage="promise",
            cycle=f"p{promise.id}",
            status="planned",
            not_before=now,
            attempts=0,
            created_at=now,
            updated_at=now,
        ):
            report.promise_follow_ups += 1


def plan_installments(session: Session, ladder: Ladder, *, now: datetime, report: PlanReport) -> None:
    """Reminders before each installment; a missed installment breaks the plan (flagged, audited)."""
    rows = session.execute(
        select(Installment, InstallmentPlan, Account.debtor_id, Debtor.timezone)
        .join(InstallmentPlan, InstallmentPlan.id == Installment.plan_id)
        .join(Account, Account.id == InstallmentPlan.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(InstallmentPlan.status == "active", Installment.status == "pending")
        .order_by(Installment.plan_id, Installment.seq)
    ).all()
    for installment, plan, debtor_id, tz in rows:
        today = now.astimezone(ZoneInfo(tz)).date()
        if installment.due_date < today:
            installment.status = "missed"
            if plan.status == "active":
                plan.status = "broken"
                report.plans_broken += 1
                audit(
                    session,
                    actor="scheduler",
                    action="plan.broken",
                    entity_type="installment_plan",
                    entity_id=plan.id,
                    details={"installment": installment.seq, "due_date": installment.due_date.isoformat()},
                )
            continue
        if (installment.due_date - today).days > ladder.installment_days_before:
            continue
        if _add_once(
            session,
            account_id=plan.account_id,
            debtor_id=debtor_id,
            kind="installment_reminder",
            stage="installment",
            cycle=f"i{installment.id}",
            status="planned",
            not_before=now,
            attempts=0,
            created_at=now,
            updated_at=now,
        ):
            report.installment_reminders += 1


def cancel_for_settled_accounts(session: Session, *, now: datetime) -> int:
    """Planned nudges of accounts that are paid or closed will never go out: mark them skipped."""
    settled = select(Account.id).where(Account.status.in_(("paid", "closed")))
    result = session.execute(
        update(Nudge)
        .where(Nudge.status == "planned", Nudge.account_id.in_(settled))
        .values(status="skipped", reason="account settled", updated_at=now)
    )
    return typing.cast("CursorResult[Any]", result).rowcount or 0


def plan(session: Session, ladder: Ladder, *, now: datetime) -> PlanReport:
    """Plan everything due at ``now`` inside the caller's transaction."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)
    report = PlanReport()
    plan_stages(session, ladder, now=now, report=report)
    plan_promise_follow_ups(session, ladder, now=now, report=report)
    plan_installments(session, ladder, now=now, report=report)
    cancel_for_settled_accounts(session, now=now)
    session.flush()
    return report


def run_plan(session_factory: sessionmaker[Session], now: datetime) -> PlanReport:
    """Plan with the ladder in force, in a transaction of its own."""
    with session_factory.begin() as session:
        return plan(session, active_ladder(session), now=now)
