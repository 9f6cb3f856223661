"""APScheduler in the app process: a planning job and a dispatch job, run by one leader. The jobs
only wire time and leadership to the use-cases in ``bot.outreach`` (plan, dispatch, acknowledge).

Every app process runs the scheduler, with its jobs kept in the database (APScheduler's
SQLAlchemy job store, so they survive restarts; missed runs are coalesced into one). Each job
first takes or renews the ``scheduler-leader`` lease; only the holder works, so with several app
processes exactly one plans and dispatches, and another takes over when it stops renewing.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from anyio import to_thread
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session, sessionmaker

from bot.db import normalize_url
from bot.outreach.acknowledge import acknowledge_waiting
from bot.outreach.dispatch import Dispatcher, DispatchReport
from bot.outreach.gate import contact_profile
from bot.outreach.planner import PlanReport, run_plan
from bot.settings import Settings
from scheduler.lease import acquire, release

logger = logging.getLogger(__name__)
LEADER = "scheduler-leader"
_active: SchedulerRunner | None = None


async def plan_job() -> None:
    if _active is not None:
        await _active.plan_tick()


async def dispatch_job() -> None:
    if _active is not None:
        await _active.dispatch_tick()


class SchedulerRunner:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        dispatcher: Dispatcher,
        *,
        on_sent: Callable[[DispatchReport], None],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.settings = settings
        self._sessions = session_factory
        self._dispatcher = dispatcher
        self._on_sent = on_sent
        self._clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ttl = timedelta(seconds=max(60.0, 3 * settings.dispatch_interval_seconds))
        self._scheduler: AsyncIOScheduler | None = None

    def is_leader(self) -> bool:
        return acquire(self._sessions, LEADER, self.holder, now=self._clock(), ttl=self._ttl)

    async def plan_tick(self) -> PlanReport | None:
        if not await to_thread.run_sync(self.is_leader):
            return None
        report = await to_thread.run_sync(run_plan, self._sessions, self._clock())
        if report.planned:
            logger.info("planned %d nudges (%s)", report.planned, report.stages)
        return report

    def _acknowledge(self, now: datetime) -> list[tuple[int, int]]:
        with self._sessions.begin() as session:
            return acknowledge_waiting(
                session,
                now=now,
                after=timedelta(minutes=self.settings.handoff_ack_minutes),
                profile=contact_profile(session),
                company_name=self.settings.company_name,
                default_tz=self.settings.default_timezone,
            )

    async def dispatch_tick(self) -> DispatchReport | None:
        if not await to_thread.run_sync(self.is_leader):
            return None
        now = self._clock()
        report = await self._dispatcher.run_once(now)
        report.message_ids += [message_id for message_id, _ in await to_thread.run_sync(self._acknowledge, now)]
        self._on_sent(report)
        return report

    def start(self) -> None:
        global _active
        _active = self
        store = SQLAlchemyJobStore(url=normalize_url(self.settings.database_url), tablename="apscheduler_jobs")
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
            timezone=timezone.utc,
        )
        scheduler.add_job(
            plan_job,
            "interval",
            minutes=self.settings.plan_interval_minutes,
            id="tagih-plan",
            replace_existing=True,
            next_run_time=datetime.now(timezone.utc),
        )
        scheduler.add_job(
            dispatch_job,
            "interval",
            seconds=self.settings.dispatch_interval_seconds,
            id="tagih-dispatch",
            replace_existing=True,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        global _active
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if _active is self:
            _active = None
        try:
            release(self._sessions, LEADER, self.holder)
        except Exception:  # shutting down: never block the exit on the lease
            logger.warning("could not release the scheduler lease", exc_info=True)
