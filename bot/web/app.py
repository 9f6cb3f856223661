"""App factory: builds everything in the lifespan, nothing at import time."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.actions import ActionDeps, build_executor
from bot.actions._base import Clock, utc_now
from bot.db.session import make_engine, make_session_factory
from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.responses import ResponseCatalogue
from bot.messaging.runtime import ChannelRuntime
from bot.outreach.dispatch import build_dispatcher
from bot.services.flows import LiveResponses
from bot.services.flows import seed as seed_flows
from bot.settings import PROJECT_ROOT, Settings, get_settings, moved_settings
from bot.web import docs
from bot.web.auth import install_auth
from bot.web.errors import install_error_handlers
from bot.web.headers import install_security_headers
from bot.web.limits import install_limits
from bot.web.routes import actions, pages, rest, webchat
from bot.web.routes import admin as admin_routes
from bot.web.routes import admin_models as admin_model_routes
from bot.web.routes import admin_policy as admin_policy_routes
from bot.web.routes import admin_training as admin_training_routes
from bot.web.routes import api as api_routes
from bot.web.routes import auth as auth_routes
from bot.web.routes import channels as channel_routes
from bot.web.routes import console as console_routes
from bot.web.routes import console_security as console_security_routes
from channels.base import Channel
from channels.web import WebChannel
from scheduler.runner import SchedulerRunner

logger = logging.getLogger(__name__)

DOMAIN_FILE = PROJECT_ROOT / "nlu" / "domain.yml"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def build_channels(settings: Settings) -> dict[str, Channel]:
    """The channel adapters whose credentials are configured (composition root: the only
    place that names concrete adapters; web chat, which needs none, is added by the app)."""
    channels: dict[str, Channel] = {}
    if settings.whatsapp_access_token is not None:
        from channels.whatsapp import WhatsAppChannel, WhatsAppConfig

        whatsapp = WhatsAppConfig.from_settings(settings)
        if whatsapp is not None:
            channels["whatsapp"] = WhatsAppChannel(whatsapp)
    if settings.telegram_bot_token is not None:
        from channels.telegram import TelegramChannel, TelegramConfig

        telegram = TelegramConfig.from_settings(settings)
        if telegram is not None:
            channels["telegram"] = TelegramChannel(telegram)
    return channels


def start_scheduler(
    settings: Settings, session_factory: Any, rasa: RasaClient, runtime: ChannelRuntime, clock: Clock
) -> SchedulerRunner:
    def queue_sent(report: Any) -> None:
        for message_id in report.message_ids:
            runtime.outbox.submit([message_id])

    runner = SchedulerRunner(
        settings,
        session_factory,
        build_dispatcher(
            settings, session_factory, channels=list(runtime.channels), trigger=rasa.trigger_intent, worker="app"
        ),
        on_sent=queue_sent,
        clock=clock,
    )
    runner.start()
    return runner


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    channels: Mapping[str, Channel] | None = None,
    telegram_polling: bool = False,
) -> FastAPI:
    """``channels`` overrides the adapters built from settings (tests pass adapters aimed at fakes)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name in moved_settings(os.environ):
            logger.warning("%s is no longer read: set it in the collection policy (/admin, bot/data/policy.yml)", name)
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        rasa = RasaClient(settings.rasa_url, token=settings.secret("rasa_token"), timeout=settings.rasa_timeout_seconds)
        with session_factory.begin() as session:
            seed_flows(session)  # the repository's files are version 1 of the editable flow set
        responses = LiveResponses(session_factory, ResponseCatalogue.from_domain(DOMAIN_FILE))
        deps = ActionDeps(
            session_factory=session_factory,
            settings=settings,
            responses=responses,
            clock=clock,
        )
        app.state.settings = settings
        app.state.session_factory = session_factory
        app.state.executor = build_executor(deps)
        adapters = build_channels(settings) if channels is None else dict(channels)
        adapters.setdefault("web", WebChannel())  # the app's own page: always on
        runtime = ChannelRuntime(settings, session_factory, rasa, responses, adapters, clock=clock)
        app.state.channels = runtime
        app.state.rasa = rasa
        app.state.responses = responses
        await runtime.start()
        if telegram_polling and "telegram" in runtime.channels:
            runtime.start_polling("telegram")
        scheduler = None
        if settings.scheduler_enabled:
            scheduler = start_scheduler(settings, session_factory, rasa, runtime, clock)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            await runtime.stop()
            await rasa.aclose()
            engine.dispose()

    app = FastAPI(
        title="Tagih",
        summary="Desk-collection chatbot: web chat channel, Rasa custom actions, operations API.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs is bot/web/docs.py: Swagger UI from a package, no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.include_router(rest.router)
    app.include_router(webchat.router)
    app.include_router(channel_routes.router)
    app.include_router(actions.router)
    app.include_router(pages.router)
    app.include_router(api_routes.router)
    app.include_router(auth_routes.router)
    app.include_router(console_routes.router)
    app.include_router(console_routes.api)
    app.include_router(console_security_routes.api)
    app.include_router(admin_routes.router)
    app.include_router(admin_policy_routes.router)
    app.include_router(admin_training_routes.router)
    app.include_router(admin_routes.api)
    app.include_router(admin_model_routes.router)  # its lifespan runs the model manager
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_auth(app)
    install_limits(app, settings)  # body cap (413), web chat rate limits, deep JSON -> 400
    # Added last, so outermost: its headers are on every answer, the other middlewares' refusals too.
    install_security_headers(app, settings)  # CSP with a per-request nonce, nosniff, no framing, HSTS

    install_error_handlers(app)  # the error tree mapped to HTTP (bot/web/errors.py)
    return app
