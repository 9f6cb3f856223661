"""A named lease in the database: one holder at a time, renewed while it works, taken over when
it stops renewing. Both the update and the insert are single atomic statements, so two processes
can never both believe they hold it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Lease


def acquire(session_factory: sessionmaker[Session], name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; True when ``holder`` has it until ``now + ttl``."""
    with session_factory.begin() as session:
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if cast("CursorResult[Any]", result).rowcount:
            return True
    try:
        with session_factory.begin() as session:
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False  # somebody else holds it (or just took it)


def release(session_factory: sessionmaker[Session], name: str, holder: str) -> None:
    with session_factory.begin() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
