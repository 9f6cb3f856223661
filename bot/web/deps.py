"""FastAPI dependencies as ``Annotated`` aliases; the objects live on ``app.state``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import Depends, Request
from rasa_sdk.executor import ActionExecutor
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

T = TypeVar("T")


def get_executor(request: Request) -> ActionExecutor:
    return request.app.state.executor


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


def get_clock(request: Request) -> Callable[[], datetime]:
    """The app's clock (tests fix it); the wall clock when the app was built without one."""
    return getattr(request.app.state, "clock", None) or (lambda: datetime.now(timezone.utc))


ExecutorDep = Annotated[ActionExecutor, Depends(get_executor)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]


def _transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    with factory.begin() as session:
        return work(session)


async def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a worker thread inside one transaction (committed when it returns,
    rolled back when it raises), so blocking database work stays off the event loop."""
    return await to_thread.run_sync(_transaction, factory, work)
