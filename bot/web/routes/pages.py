"""The front door and the health check (the web chat page is bot/web/routes/webchat.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
