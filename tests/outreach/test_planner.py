"""Planning nudges: the stage that applies in the debtor's timezone, once per due cycle."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, Installment, InstallmentPlan, Nudge, Promise
from bot.outreach.ladder import Ladder, LadderError, active_ladder, default_ladder, store_ladder
from bot.outreach.planner import plan
from tests.outreach.conftest import NOW, days

TODAY = date(2026, 11, 23)  # local date in WIB/WITA/WIT at NOW


def planned(factory, ref: str | None = None) -> list[tuple[str, str, str]]:
    with factory() as session:
        query = select(Nudge).order_by(Nudge.id)
        return [(n.account.ref, n.stage, n.cycle) for n in session.scalars(query) if ref in (None, n.account.ref)]


def run(factory, now: datetime = NOW):
    with factory.begin() as session:
        return plan(session, active_ladder(session), now=now)


@pytest.mark.parametrize(
    ("due", "stage"),
    [
        (TODAY + days(3), "d-3"),
        (TODAY, "d0"),
        (TODAY - days(1), "d+1"),
        (TODAY - days(5), "d+3"),  # between D+3 and D+7: the D+3 stage applies
        (TODAY - days(7), "d+7"),
        (TODAY - days(40), "d+14"),
    ],
)
def test_the_stage_that_applies_is_planned(factory, accounts, due, stage):
    ref = accounts.add(due=due)
    run(factory)
    assert planned(factory, ref) == [(ref, stage, due.isoformat())]


def test_not_yet_due_accounts_get_nothing(factory, accounts):
    ref = accounts.add(due=TODAY + days(4))
    run(factory)
    assert planned(factory, ref) == []


def test_planning_twice_plans_once(factory, accounts):
    ref = accounts.add(due=TODAY)
    first, second = run(factory), run(factory)
    assert first.stages == {"d0": 1} and second.planned == 0
    assert len(planned(factory, ref)) == 1


def test_local_date_decides_the_stage(factory, accounts):
    # 2026-11-23 16:30 UTC: already the 24th in Jayapura (UTC+9), still the 23rd in Jakarta (UTC+7)
    late = datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)
    jakarta = accounts.add(due=date(2026, 11, 24), tz="Asia/Jakarta")
    jayapura = accounts.add(due=date(2026, 11, 24), tz="Asia/Jayapura")
    run(factory, late)
    assert planned(factory, jakarta)[0][1] == "d-3"
    assert planned(factory, jayapura)[0][1] == "d0"


def test_a_new_due_date_is_a_new_cycle(factory, accounts):
    ref = accounts.add(due=TODAY)
    run(factory)
    with factory.begin() as session:
        accounts.get(session, ref).due_date = date(2026, 12, 23)
    run(factory, datetime(2026, 12, 23, 3, 0, tzinfo=timezone.utc))
    assert [p[2] for p in planned(factory, ref)] == ["2026-11-23", "2026-12-23"]


def test_paid_accounts_are_not_planned_and_pending_rows_are_skipped(factory, accounts):
    ref = accounts.add(due=TODAY)
    run(factory)
    with factory.begin() as session:
        accounts.get(session, ref).status = "paid"
    run(factory)
    with factory() as session:
        nudge = session.scalar(select(Nudge))
        assert nudge.status == "skipped" and nudge.reason == "account settled"


def test_broken_promise_is_flagged_and_followed_up(factory, accounts):
    ref = accounts.add(due=TODAY - days(10))
    with factory.begin() as session:
        account = accounts.get(session, ref)
        session.add(Promise(account_id=account.id, amount=Decimal("500000"), promised_date=TODAY - days(2)))
    report = run(factory)
    assert report.promises_broken == 1 and report.promise_follow_ups == 1
    with factory() as session:
        assert session.scalar(select(Promise.status)) == "broken"
        assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "promise.broken")) == 1
    assert "promise" in [p[1] for p in planned(factory, ref)]
    assert run(factory).promise_follow_ups == 0, "once per promise"


def test_promise_due_today_is_not_broken_yet(factory, accounts):
    ref = accounts.add(due=TODAY - days(10))
    with factory.begin() as session:
        session.add(Promise(account_id=accounts.get(session, ref).id, amount=Decimal("1"), promised_date=TODAY))
    assert run(factory).promises_broken == 0


def test_installments_get_reminders_and_a_missed_one_breaks_the_plan(factory, accounts):
    ref = accounts.add(due=TODAY - days(20), amount="3000000")
    with factory.begin() as session:
        account = accounts.get(session, ref)
        plan_row = InstallmentPlan(account_id=account.id, total=Decimal("3000000"), installment_count=3)
        plan_row.installments = [
            Installment(seq=1, due_date=TODAY + days(2), amount=Decimal("1000000")),
            Installment(seq=2, due_date=TODAY + days(32), amount=Decimal("1000000")),
            Installment(seq=3, due_date=TODAY + days(62), amount=Decimal("1000000")),
        ]
        session.add(plan_row)
    report = run(factory)
    assert report.installment_reminders == 1
    report = run(factory, datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc))  # the 25th passed unpaid
    assert report.plans_broken == 1
    with factory() as session:
        assert session.scalar(select(InstallmentPlan.status)) == "broken"
        assert session.scalar(select(Installment.status).where(Installment.seq == 1)) == "missed"


def test_stored_ladder_replaces_the_default(factory, accounts):
    source = default_ladder().source
    source = {**source, "stages": [s for s in source["stages"] if s["key"] != "d0"]}
    with factory.begin() as session:
        assert store_ladder(session, Ladder.from_dict(source), by="admin@example.com") == 1
    ref = accounts.add(due=TODAY)
    run(factory)
    assert planned(factory, ref) == [(ref, "d-3", TODAY.isoformat())]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["stages"].append({**s["stages"][0], "key": "again"}), "overlaps"),
        (lambda s: s["stages"].append({**s["stages"][1], "offset": 40}), "duplicate key"),
        (lambda s: s["stages"][0]["text"].update(id=""), "missing or empty"),
        (lambda s: s["stages"][0]["text"].update(en="Hi {nama}"), "unknown placeholders"),
        (lambda s: s["stages"][0]["text"].update(en="Pay {amount} now"), "must identify the company"),
        (lambda s: s["stages"][0].update(action="call"), "'action'"),
        (lambda s: s["stages"][0].update(offset="soon"), "whole number"),
        (lambda s: s["stages"][0].pop("template"), "template"),
    ],
)
def test_bad_ladders_are_refused_with_the_reason(change, message):
    import copy

    source = copy.deepcopy(default_ladder().source)
    change(source)
    with pytest.raises(LadderError) as caught:
        Ladder.from_dict(source)
    assert message in str(caught.value)


def test_invalid_yaml_is_refused():
    with pytest.raises(LadderError, match="invalid YAML"):
        Ladder.from_yaml("stages: [")
