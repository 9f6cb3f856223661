"""FastAPI dependencies as ``Annotated`` aliases; the objects live on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from rasa_sdk.executor import ActionExecutor

from bot.dialogue.router import ConversationRouter
from bot.settings import Settings


def get_router(request: Request) -> ConversationRouter:
    return request.app.state.router


def get_executor(request: Request) -> ActionExecutor:
    return request.app.state.executor


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


RouterDep = Annotated[ConversationRouter, Depends(get_router)]
ExecutorDep = Annotated[ActionExecutor, Depends(get_executor)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
