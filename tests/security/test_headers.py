"""Security headers on every page and API answer, a CSP the pages still work under, /docs without a
CDN, a public schema without the console and admin routes, and the Secure session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db.session import make_engine, make_session_factory, migrate
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.auth import SESSION_COOKIE
from tests.console_support import DEFAULT_PASSWORD, logged_in_clients, login_in_browser, make_user
from tests.security.conftest import ADMIN, AGENT
from tests.support import AppServer, fixed_clock, free_port, make_settings

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")


@pytest.fixture
def clients(settings: Settings, factory: sessionmaker[Session]) -> Iterator[Any]:
    with logged_in_clients(create_app(settings, clock=fixed_clock)) as open_client:
        yield open_client


def directives(response: Any) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_secure_headers(response: Any) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    csp = directives(response)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'", where
    assert csp["default-src"] == "default-src 'self'", where
    assert csp["object-src"] == "object-src 'none'" and csp["base-uri"] == "base-uri 'none'", where
    assert "unsafe-inline" not in response.headers["content-security-policy"], where
    assert "unsafe-eval" not in response.headers["content-security-policy"], where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["x-frame-options"] == "DENY", where
    assert response.headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin"), where


def assert_inline_code_carries_the_nonce(response: Any) -> None:
    """Every inline <script>/<style> has this response's nonce; no inline handlers or style attributes
    (a CSP without 'unsafe-inline' blocks those, so the page would silently lose them)."""
    [nonce] = set(NONCE.findall(response.headers["content-security-policy"]))
    html = response.text
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert 'src="/' in tag or f'nonce="{nonce}"' in tag, (response.request.url.path, tag)
    assert not re.search(r"<[^>]+\s(on[a-z]+|style)\s*=", html), response.request.url.path
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "everything comes from this site"


def test_every_page_and_api_answer_carries_the_security_headers(clients: Any) -> None:
    anonymous, _ = clients()
    agent, _ = clients(AGENT)
    admin, _ = clients(ADMIN)
    answers = [
        anonymous.get("/chat"),
        anonymous.get("/console/login"),
        anonymous.get("/console"),  # redirect to the login
        anonymous.get("/console/api/queue"),  # 401 JSON
        anonymous.get("/api/accounts/NOPE"),  # the operations API, off without keys
        anonymous.post("/webhooks/rest/webhook", json={}),  # 422
        anonymous.get("/health"),
        anonymous.get("/openapi.json"),
        anonymous.get("/docs"),
        anonymous.get("/static/chat.js"),
        anonymous.get("/no/such/page"),
        agent.get("/console"),
        agent.get("/console/api/queue"),
        agent.get("/admin"),  # the HTML refusal
        admin.get("/admin"),
        admin.get("/admin/api/flows/versions"),
    ]
    for response in answers:
        assert_secure_headers(response)
    assert "strict-transport-security" not in answers[0].headers, "http public URL: no HSTS"


def test_pages_run_only_scripts_and_styles_that_carry_the_requests_nonce(clients: Any) -> None:
    anonymous, _ = clients()
    agent, _ = clients(AGENT)
    admin, _ = clients(ADMIN)
    pages = [
        anonymous.get("/chat"),
        anonymous.get("/console/login"),
        anonymous.get("/docs"),
        agent.get("/console"),
        agent.get("/admin"),
        admin.get("/admin"),
    ]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html"), page.request.url.path
        assert_inline_code_carries_the_nonce(page)
    nonces = [NONCE.search(page.headers["content-security-policy"]).group(1) for page in pages]  # type: ignore[union-attr]
    assert len(set(nonces)) == len(nonces), "a new nonce for every response"


def test_https_public_url_adds_hsts_and_a_secure_cookie_outside_production(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, TAGIH_PUBLIC_URL="https://collect.example.co.id")
    assert settings.environment == "test"
    migrate(settings.database_url)
    make_user(make_session_factory(make_engine(settings.database_url)), AGENT, "agent")
    with TestClient(create_app(settings, clock=fixed_clock), follow_redirects=False) as client:
        assert client.get("/health").headers["strict-transport-security"] == "max-age=31536000"
        response = client.post("/console/login", data={"email": AGENT, "password": DEFAULT_PASSWORD})
        assert response.status_code == 303
        [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
        assert "; secure" in cookie.lower() and "; httponly" in cookie.lower()


def test_the_cookie_stays_secure_in_production_and_plain_only_for_local_http(settings: Settings) -> None:
    from bot.web.auth import secure_cookies

    production = settings.model_copy(update={"environment": "production", "public_url": None})
    https_dev = settings.model_copy(update={"environment": "development", "public_url": "HTTPS://x.example"})
    http_dev = settings.model_copy(update={"environment": "development", "public_url": "http://127.0.0.1:8000"})
    assert secure_cookies(production) and secure_cookies(https_dev) and not secure_cookies(http_dev)


# ---------------------------------------------------------------------------------------------------
# /docs and the public schema


def test_docs_load_swagger_ui_from_this_app_only(clients: Any) -> None:
    anonymous, _ = clients()
    docs = anonymous.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    urls = re.findall(r"(?:src|href)=\"([^\"]+)\"", docs.text) + re.findall(r"url: '([^']+)'", docs.text)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "cdn" not in docs.text.lower() and "swagger.io" not in docs.text
    expected = {
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui.css": "text/css",
        "favicon-32x32.png": "image/png",
    }
    for url in urls:
        if url.startswith("/docs/assets/"):
            asset = anonymous.get(url)
            name = url.rsplit("/", 1)[1]
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(expected.pop(name)), url
            assert len(asset.content) > 500
    assert expected == {}, "every asset is referenced"
    assert anonymous.get("/docs/assets/package.json").status_code == 404
    assert anonymous.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert anonymous.get("/redoc").status_code == 404, "ReDoc would load from a CDN: not offered"


def test_the_public_schema_lists_no_console_admin_or_login_routes(clients: Any) -> None:
    anonymous, _ = clients()
    paths = set(anonymous.get("/openapi.json").json()["paths"])
    assert not [p for p in paths if p.startswith(("/console", "/admin", "/docs"))], sorted(paths)
    assert {"/webhooks/rest/webhook", "/webhooks/whatsapp", "/webhooks/telegram", "/api/payments"} <= paths


# ---------------------------------------------------------------------------------------------------
# In Chromium: the pages work under the policy, with no violation reported


@pytest.fixture
def live_app(settings: Settings, factory: sessionmaker[Session]) -> Iterator[str]:
    with AppServer(create_app(settings, clock=fixed_clock, channels={}), free_port()) as server:
        yield server.url


def watch_violations(page: Any) -> list[str]:
    """CSP violations the page reports (the browser refused a script, a style, a frame...)."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return seen


def test_pages_work_in_chromium_under_the_policy(live_app: str, page: Any) -> None:
    violations = watch_violations(page)

    page.goto(f"{live_app}/chat")
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(11, 92, 173)"
    page.fill("#text", "halo")
    page.press("#text", "Enter")
    page.wait_for_selector(".msg.in")  # the chat's script ran (no Rasa here: an error follows)
    page.wait_for_selector(".error")

    login_in_browser(page, live_app, ADMIN, path="/console")
    page.wait_for_selector("#queue td")
    assert "Nobody is waiting." in page.inner_text("#queue")  # the queue's inline script ran

    page.goto(f"{live_app}/admin")
    page.wait_for_selector("#versions li")  # the admin panels' inline scripts ran
    assert "the repository's files" in page.inner_text("#versions")
    assert page.evaluate("getComputedStyle(document.getElementById('diff')).whiteSpace") == "pre-wrap"

    page.goto(f"{live_app}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Tagih" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the operations rendered from /openapi.json

    assert violations == []


def test_chromium_refuses_an_injected_inline_script_and_framing(live_app: str, page: Any) -> None:
    violations = watch_violations(page)
    page.goto(f"{live_app}/chat")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__ran === undefined"), "an inline script without the nonce does not run"
    assert any("script-src" in v for v in violations)
    refused = page.evaluate(
        """() => new Promise(resolve => {
             const frame = document.createElement('iframe');
             frame.src = '/console/login';
             frame.onload = () => { try { resolve(frame.contentDocument === null
                                                  || frame.contentDocument.body.innerHTML === ''); }
                                    catch (e) { resolve(true); } };
             document.body.appendChild(frame);
           })"""
    )
    assert refused, "the login page does not render inside a frame"
