"""Human-facing pages and health checks."""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.web.deps import SettingsDep

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache
def _chat_template() -> str:
    return (TEMPLATES / "chat.html").read_text(encoding="utf-8")


@router.get("/")
async def index() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(settings: SettingsDep) -> str:
    return _chat_template().replace("__COMPANY__", html.escape(settings.company_name))


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
