"""Leadership by lease, and the same planning/claiming on PostgreSQL (concurrent workers)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.db.models import Lease, Nudge
from bot.db.session import make_engine, make_session_factory, migrate
from bot.outreach.dispatch import claim
from bot.outreach.planner import run_plan
from scheduler.lease import acquire, release
from tests.outreach.conftest import NOW, Accounts

TODAY = date(2026, 11, 23)


def test_one_leader_at_a_time_and_takeover_after_expiry(factory):
    ttl = timedelta(seconds=60)
    assert acquire(factory, "leader", "a", now=NOW, ttl=ttl)
    assert not acquire(factory, "leader", "b", now=NOW + timedelta(seconds=30), ttl=ttl)
    assert acquire(factory, "leader", "a", now=NOW + timedelta(seconds=30), ttl=ttl), "the holder renews"
    assert not acquire(factory, "leader", "b", now=NOW + timedelta(seconds=89), ttl=ttl)
    assert acquire(factory, "leader", "b", now=NOW + timedelta(seconds=91), ttl=ttl), "taken over once expired"
    assert not acquire(factory, "leader", "a", now=NOW + timedelta(seconds=92), ttl=ttl)
    release(factory, "leader", "b")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Lease)) == 0


def test_postgres_planning_and_concurrent_claims_never_overlap(postgres_url):
    migrate(postgres_url)
    factory = make_session_factory(make_engine(postgres_url))
    accounts = Accounts(factory)
    for n in range(40):
        accounts.add(due=TODAY - timedelta(days=n % 20))
    assert run_plan(factory, NOW).planned == 40
    assert run_plan(factory, NOW).planned == 0, "unique key: planning again adds nothing"

    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        mine: list[int] = []
        while ids := claim(factory, now=NOW, worker=name, limit=3, lease=timedelta(minutes=5)):
            mine += ids
        claimed[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == 40 and len(set(everything)) == 40, "each row claimed by exactly one worker"
    with factory() as session:
        owners = dict(session.execute(select(Nudge.id, Nudge.claimed_by)).all())
    assert all(owners[i] == name for name, ids in claimed.items() for i in ids)


def test_postgres_lease_is_exclusive_under_contention(postgres_url):
    migrate(postgres_url)
    factory = make_session_factory(make_engine(postgres_url))
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contender(name: str) -> None:
        barrier.wait()
        if acquire(factory, "leader", name, now=NOW, ttl=timedelta(seconds=60)):
            winners.append(name)

    threads = [threading.Thread(target=contender, args=(f"p{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1
