"""Console login and logout pages, and who is logged in.

The login form carries no CSRF token (there is no session yet to tie it to); instead a post whose
``Origin`` names another site is refused, so another page cannot log a browser into an account of
its choosing. ``next`` is only followed to a local ``/console`` path, never to another site.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.services.audit import audit
from bot.services.users import MAX_EMAIL_CHARS, InvalidCredentials, LoginThrottled, authenticate
from bot.settings import Settings
from bot.web.auth import (
    SESSION_COOKIE,
    AgentApi,
    clear_session_cookie,
    csrf_protect,
    current_session_optional,
    end_session,
    find_session,
    session_csrf,
    set_session_cookie,
    start_session,
)
from bot.web.deps import ClockDep, SessionFactoryDep, SettingsDep
from bot.web.headers import csp_nonce

router = APIRouter(tags=["console"], include_in_schema=False)

CONSOLE_HOME = "/console"
LOCAL_HOMES = (CONSOLE_HOME, "/admin")  # where a login may continue to
WRONG_CREDENTIALS = "Wrong email or password."
_PAGE_HEADERS = {"Cache-Control": "no-store"}  # CSP, X-Frame-Options and the rest: bot/web/headers.py


@lru_cache
def _templates() -> Environment:
    directory = Path(__file__).resolve().parent.parent / "templates"
    return Environment(loader=FileSystemLoader(str(directory)), autoescape=select_autoescape(["html"]))


def _login_page(
    request: Request,
    settings: Settings,
    *,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    next_path: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    html = (
        _templates()
        .get_template("login.html")
        .render(
            company=settings.company_name,
            error=error,
            email=email,
            next=next_path or "",
            csp_nonce=csp_nonce(request),
        )
    )
    return HTMLResponse(html, status_code=status_code, headers={**_PAGE_HEADERS, **(headers or {})})


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a console or admin path on this site, else None (no open redirect)."""
    if not value or any(ch in value for ch in "\\\r\n\t") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if not any(parts.path == home or parts.path.startswith(home + "/") for home in LOCAL_HOMES):
        return None
    return value


def _same_site(request: Request, settings: Settings) -> bool:
    """True unless the browser says the form came from another origin. A missing ``Origin`` passes
    (older clients, scripts); ``null`` (sandboxed or privacy-stripped) does not."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    allowed = {request.headers.get("host", "").lower()}
    if settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc.lower())
    return parts.netloc.lower() in allowed


def _duration(seconds: int) -> str:
    """``45 seconds`` for the slow-down's short waits, ``15 minutes`` for a lock."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _address(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


@router.get("/console/login", include_in_schema=False)
def login_form(request: Request, settings: SettingsDep, next_: Annotated[str, Query(alias="next")] = "") -> Response:
    target = safe_next(next_)
    if current_session_optional(request) is not None:
        return RedirectResponse(target or CONSOLE_HOME, status_code=303)
    return _login_page(request, settings, next_path=target)


@router.post("/console/login", include_in_schema=False)
def login_submit(
    request: Request,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    clock: ClockDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "",
) -> Response:
    target = safe_next(next_)
    shown_email = email.strip()[:MAX_EMAIL_CHARS]
    if not _same_site(request, settings):
        return _login_page(
            request,
            settings,
            status_code=403,
            error="This login came from another site. Open the console's login page and log in there.",
            next_path=target,
        )
    if not email.strip() or not password:
        return _login_page(
            request,
            settings,
            status_code=400,
            error="Enter your email and password.",
            email=shown_email,
            next_path=target,
        )

    now = clock()
    address = _address(request)
    refusal: InvalidCredentials | LoginThrottled | None = None
    token = ""
    with factory.begin() as session:  # committed also on refusal: the attempt is what throttles
        try:
            user = authenticate(session, email=email, password=password, address=address, now=now)
        except (InvalidCredentials, LoginThrottled) as exc:
            refusal = exc
        else:
            old_token = request.cookies.get(SESSION_COOKIE)
            previous = find_session(session, old_token, now=now) if old_token else None
            if previous is not None:
                end_session(session, previous.id, now=now)
            token, web_session = start_session(session, user=user, now=now, hours=settings.session_hours)
            audit(
                session,
                actor=f"agent:{user.email}",
                action="user.login",
                entity_type="user",
                entity_id=user.id,
                details={"session_id": web_session.id, "address": address},
            )

    if isinstance(refusal, LoginThrottled):
        return _login_page(
            request,
            settings,
            status_code=429,
            error=f"Too many failed logins. Try again in {_duration(refusal.retry_after_seconds)}.",
            email=shown_email,
            next_path=target,
            headers={"Retry-After": str(refusal.retry_after_seconds)},
        )
    if refusal is not None:
        return _login_page(
            request, settings, status_code=401, error=WRONG_CREDENTIALS, email=shown_email, next_path=target
        )
    response = RedirectResponse(target or CONSOLE_HOME, status_code=303)
    set_session_cookie(response, token, settings)
    return response


@router.post("/console/logout", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def logout(request: Request, settings: SettingsDep, factory: SessionFactoryDep, clock: ClockDep) -> Response:
    """Revoke the session (the cookie is useless from now on, even if copied) and forget the cookie."""
    web_session = current_session_optional(request)
    if web_session is not None:
        with factory.begin() as session:
            end_session(session, web_session.id, now=clock())
            audit(
                session,
                actor=f"agent:{web_session.user.email}",
                action="user.logout",
                entity_type="user",
                entity_id=web_session.user_id,
                details={"session_id": web_session.id},
            )
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/console/api/me", summary="The logged-in console user and the session's CSRF token")
def me(request: Request, user: AgentApi, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "csrf_token": session_csrf(request),
    }
