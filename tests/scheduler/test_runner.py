"""The scheduler inside the app process: APScheduler jobs in the database, one leader."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select, text

from bot.db.models import Nudge
from scheduler.runner import SchedulerRunner
from tests.outreach.conftest import NOW, make_dispatcher
from tests.support import make_settings


async def test_jobs_persist_and_only_the_leader_sends(factory, accounts, trigger, tmp_path):
    accounts.add(due=date(2026, 11, 23))
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    settings = make_settings(tmp_path, TAGIH_DATABASE_URL=url, TAGIH_DISPATCH_INTERVAL_SECONDS=0.2)
    sent: list[int] = []

    def runner(worker: str) -> SchedulerRunner:
        return SchedulerRunner(
            settings,
            factory,
            make_dispatcher(factory, trigger, worker=worker),
            on_sent=lambda report: sent.extend(report.message_ids),
            clock=lambda: NOW,
        )

    leader, follower = runner("leader"), runner("follower")
    leader.start()
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.1)
        assert len(sent) == 1
        assert await follower.dispatch_tick() is None, "not the leader: does nothing"
        with factory() as session:
            jobs = session.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id")).scalars().all()
            assert jobs == ["tagih-dispatch", "tagih-plan"]
    finally:
        leader.stop()
    # after the leader stopped (and released its lease) another process takes over
    assert await follower.plan_tick() is not None
    with factory() as session:
        assert session.scalar(select(func.count(Nudge.id)).where(Nudge.status == "sent")) == 1
