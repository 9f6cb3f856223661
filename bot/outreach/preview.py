"""The operator's preview behind ``tagih nudges plan --now ISO``: what a run at an instant would
send, defer or skip, and why, without changing anything."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Nudge
from bot.domain.contact_rules import ContactProfile
from bot.outreach.gate import evaluate
from bot.outreach.ladder import active_ladder
from bot.outreach.planner import plan


def preview(
    session_factory: sessionmaker[Session], *, now: datetime, profile: ContactProfile, channels: Collection[str]
) -> dict[str, Any]:
    """What a run at ``now`` would do: plans and judges inside a transaction that is rolled back."""
    session = session_factory()
    try:
        report = plan(session, active_ladder(session), now=now)
        due = session.scalars(
            select(Nudge)
            .where(
                or_(
                    (Nudge.status == "planned") & (Nudge.not_before <= now),
                    (Nudge.status == "claimed") & (Nudge.claimed_until < now),
                )
            )
            .order_by(Nudge.not_before, Nudge.id)
        )
        result: dict[str, Any] = {
            "now": now.isoformat(),
            "profile": profile.name,
            "newly_planned": {
                **report.stages,
                "promise": report.promise_follow_ups,
                "installment": report.installment_reminders,
            },
            "send": [],
            "deferred": [],
            "skipped": [],
        }
        for nudge in due:
            decision = evaluate(session, nudge, now=now, profile=profile, channels=channels)
            item: dict[str, Any] = {"account_ref": nudge.account.ref, "stage": nudge.stage, "kind": nudge.kind}
            if decision.verdict == "send":
                result["send"].append({**item, "channel": decision.channel})
            elif decision.verdict == "defer":
                until = decision.until.isoformat() if decision.until else None
                result["deferred"].append({**item, "until": until, "reason": decision.reason})
            else:
                result["skipped"].append({**item, "reason": decision.reason})
        return result
    finally:
        session.rollback()
        session.close()


def format_preview(result: dict[str, Any]) -> str:
    lines = [f"At {result['now']} ({result['profile']} rules):"]
    lines.append(f"  send now: {len(result['send'])}")
    lines += [f"    {i['account_ref']}  {i['stage']}  via {i['channel']}" for i in result["send"]]
    lines.append(f"  deferred: {len(result['deferred'])}")
    lines += [f"    {i['account_ref']}  {i['stage']}  until {i['until']}: {i['reason']}" for i in result["deferred"]]
    lines.append(f"  skipped: {len(result['skipped'])}")
    lines += [f"    {i['account_ref']}  {i['stage']}: {i['reason']}" for i in result["skipped"]]
    return "\n".join(lines)
