"""Property: whatever the accounts, timezones, holidays and clock, no send breaks the active profile."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.models import Nudge
from bot.db.session import make_engine, make_session_factory, migrate
from bot.domain.contact_rules import INDONESIA, US_REGULATION_F
from bot.outreach.gate import evaluate, sent_counts
from bot.outreach.ladder import active_ladder
from bot.outreach.planner import plan
from tests.outreach.conftest import Accounts

ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "America/New_York", "Europe/Berlin"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    clock=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(timezone.utc)
    ),
    debtors=st.lists(st.tuples(st.sampled_from(ZONES), st.integers(-5, 30)), min_size=1, max_size=6),
    profile=st.sampled_from([INDONESIA, US_REGULATION_F]),
    already_sent=st.integers(0, 5),
)
def test_no_planned_send_breaks_a_rule(tmp_path_factory, clock, debtors, profile, already_sent):
    path: Path = tmp_path_factory.mktemp("prop") / "gate.db"
    url = f"sqlite:///{path}"
    migrate(url)
    factory = make_session_factory(make_engine(url))
    accounts = Accounts(factory)
    for zone, overdue in debtors:
        local_today = clock.astimezone(ZoneInfo(zone)).date()
        accounts.add(due=local_today - timedelta(days=overdue), tz=zone)
    with factory.begin() as session:
        plan(session, active_ladder(session), now=clock)
        # some debtors already got messages recently
        for nudge in session.scalars(select(Nudge)).all()[:already_sent]:
            session.add(
                Nudge(
                    account_id=nudge.account_id,
                    debtor_id=nudge.debtor_id,
                    kind="stage",
                    stage="earlier",
                    cycle="x",
                    status="sent",
                    not_before=clock,
                    sent_at=clock - timedelta(hours=3),
                    attempts=0,
                )
            )
    with factory() as session:
        for nudge in session.scalars(select(Nudge).where(Nudge.status == "planned")):
            decision = evaluate(session, nudge, now=clock, profile=profile, channels=("whatsapp",))
            tz = ZoneInfo(nudge.debtor.timezone)
            if decision.verdict == "send":
                assert profile.closed_reason(clock.astimezone(tz)) is None
                today, week, _ = sent_counts(session, nudge.debtor_id, now=clock, tz=tz)
                assert today < profile.max_per_day and week < profile.max_per_week
                assert decision.channel == "whatsapp"
            elif decision.verdict == "defer":
                assert decision.until is not None and decision.until > clock
                if any(word in decision.reason for word in ("cap", "contact", "holiday")):
                    assert profile.closed_reason(decision.until.astimezone(tz)) is None, "deferred to an allowed time"
                assert decision.reason
            else:
                assert decision.reason
