"""The web chat as a channel: the app's signed session cookie, turns through the one inbound
pipeline, the history, the live connection (agent replies, notices, reminders reach the open page;
a closed page finds them on return), delivery receipts and the refusals. The dialogue is a fake
Rasa that echoes each message; tests/web/test_chat_page_browser.py runs the real model in Chromium."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import Account, Conversation, Handoff, Message, Nudge
from bot.services.accounts import import_account_rows
from bot.services.handoffs import open_handoff
from bot.services.identity import link_conversation
from bot.web import chat_session
from bot.web.chat_session import COOKIE
from tests.console_support import login, make_user
from tests.support import FIXED_NOW, wait_until
from tests.web.webchat_support import ChatApp, chat_app, live_events, say, session_id

AGENT = "agen.web@tagih.example"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, graph_api: Any, bot_api: Any):
    with chat_app(tmp_path_factory.mktemp("webchat"), graph_api, bot_api) as served:
        make_user(served.factory, AGENT, "agent", name="Agen Web")
        yield served


def hand_to_agent(app: ChatApp, client: httpx.Client) -> tuple[httpx.Client, str, int]:
    """The conversation is waiting for a person, and the agent has claimed it (console API)."""
    with app.factory.begin() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == session_id(client)))
        handoff = open_handoff(session, conversation=conversation, reason="request_human")
        handoff_id, conversation_id = handoff.id, conversation.id
    agent = httpx.Client(base_url=app.url, timeout=30)
    csrf = login(agent, AGENT)
    claimed = agent.post(f"/console/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 200, claimed.text
    return agent, csrf, conversation_id


def agent_says(agent: httpx.Client, csrf: str, conversation_id: int, text: str) -> int:
    response = agent.post(
        f"/console/api/conversations/{conversation_id}/reply", json={"text": text}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201, response.text
    return response.json()["message_id"]


def status_of(app: ChatApp, message_id: int) -> str | None:
    with app.factory() as session:
        return session.get(Message, message_id).delivery_status


# -- the session ---------------------------------------------------------------------------------


def test_the_page_issues_a_signed_httponly_session_cookie_once(app):
    client = httpx.Client(base_url=app.url, timeout=30)
    first = client.get("/chat")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=page-")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=86400" in cookie
    again = client.get("/chat")
    assert "set-cookie" not in again.headers, "the same browser keeps its session"
    assert session_id(client).startswith("page-") and len(session_id(client)) > 20


@pytest.mark.parametrize(
    "forge",
    [
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # signature altered
        lambda value: "page-someoneelse." + value.split(".", 1)[1],  # another id, this signature
        lambda value: "",  # none at all
        lambda value: "page-x.99999999999999999999." + value.rsplit(".", 1)[1],  # a time no date can hold
    ],
)
def test_a_forged_or_missing_cookie_reaches_no_conversation(app, forge):
    owner = app.browser()
    assert say(owner, "halo").status_code == 200
    stranger = httpx.Client(base_url=app.url, timeout=30)
    stranger.cookies.set(COOKIE, forge(owner.cookies[COOKIE]))
    for method, path in [
        ("GET", "/chat/api/history"),
        ("POST", "/chat/api/messages"),
        ("POST", "/chat/api/receipts"),
        ("GET", "/chat/api/events"),
        ("POST", "/chat/api/end"),
    ]:
        response = stranger.request(method, path, json={"text": "halo", "client_id": "abcdefgh1"})
        assert response.status_code == 401 and "reload /chat" in response.json()["detail"], (method, path)
    fresh = stranger.get("/chat")
    assert fresh.headers["set-cookie"].startswith(f"{COOKIE}=page-"), "the page starts a new session instead"
    assert stranger.get("/chat/api/history").json()["messages"] == []


def test_a_cookie_that_is_not_ascii_is_refused_not_crashed_on(app):
    owner = app.browser()
    value = owner.cookies[COOKIE]
    raw = f"{COOKIE}={value}\u00e9".encode("latin-1")
    response = httpx.get(f"{app.url}/chat/api/history", headers={"Cookie": raw})
    assert response.status_code == 401


def test_an_expired_cookie_starts_a_new_session(app):
    secret = app.settings.secret("secret_key")
    _, value = chat_session.issue(secret, FIXED_NOW - timedelta(hours=25))
    assert chat_session.read(secret, value, now=FIXED_NOW, hours=24) is None
    _, fresh = chat_session.issue(secret, FIXED_NOW - timedelta(hours=23))
    assert chat_session.read(secret, fresh, now=FIXED_NOW, hours=24) is not None


def test_rest_clients_may_not_use_the_pages_session_ids(app):
    response = httpx.post(f"{app.url}/webhooks/rest/webhook", json={"sender": "page-abc", "message": "halo"})
    assert response.status_code == 422 and "web chat page" in response.json()["detail"]


# -- turns ---------------------------------------------------------------------------------------


def test_a_turn_answers_with_the_stored_message_and_the_replies(app):
    client = app.browser()
    response = say(client, "halo, saya mau tanya tagihan", client_id="first-message-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"]["text"] == "halo, saya mau tanya tagihan" and body["message"]["direction"] == "in"
    assert [r["text"] for r in body["replies"]] == ["halo, saya mau tanya tagihan via tagih-initial.tar.gz"]
    assert body["with_agent"] is False
    inbound, reply = app.messages(client)
    assert inbound.channel_message_id == f"{session_id(client)}:first-message-1" and inbound.processed_at
    assert reply.author == "bot" and reply.delivery_status == "sent", "handed over in the answer"
    assert app.conversation(client).language == "id", "the first message sets the language"


def test_sending_the_same_message_again_stores_and_asks_nothing_new(app):
    client = app.browser()
    turns = len([e for e in app.rasa.events if e.kind == "turn-start"])
    first = say(client, "sy sdh bayar kmrn", client_id="retry-me-please").json()
    again = say(client, "sy sdh bayar kmrn", client_id="retry-me-please").json()
    assert again == first
    assert len(app.messages(client)) == 2
    assert len([e for e in app.rasa.events if e.kind == "turn-start"]) == turns + 1


def test_a_quick_reply_shows_its_title_and_sends_its_payload(app):
    client = app.browser()
    body = say(client, "/ask_balance", title="Cek tagihan").json()
    assert body["message"]["text"] == "Cek tagihan"
    assert body["replies"][0]["text"].startswith("/ask_balance via")
    (inbound, _) = app.messages(client)
    assert inbound.text == "/ask_balance" and inbound.payload["kind"] == "button"


def test_history_survives_a_reload_with_birth_dates_masked(app):
    client = app.browser()
    say(client, "tanggal lahir saya 14-02-1990")
    say(client, "ok makasih")
    reloaded = client.get("/chat")
    assert "set-cookie" not in reloaded.headers
    history = client.get("/chat/api/history").json()
    texts = [m["text"] for m in history["messages"]]
    assert len(texts) == 4 and texts[2] == "ok makasih"
    assert "14-02-1990" not in " ".join(texts), "the answer is masked in the history"
    assert all("14-02-1990" not in (m.text or "") for m in app.messages(client)), "and never stored as typed"


def test_when_the_dialogue_is_down_the_message_is_kept_and_answered_once_it_is_back(app):
    client = app.browser()
    app.rasa.fail_next, app.rasa.fail_status = 1, 500  # an error Rasa's client does not retry
    down = say(client, "halo?", client_id="during-outage-1")
    app.rasa.fail_status = 503
    assert down.status_code == 503 and "saved" in down.json()["detail"]
    (kept,) = app.messages(client)
    assert kept.processed_at is None
    retried = say(client, "halo?", client_id="during-outage-1")  # the page's Retry: the same message
    assert retried.status_code == 200 and retried.json()["replies"][0]["text"].startswith("halo? via")
    (_, reply) = app.messages(client)
    assert reply.text.startswith("halo? via") and app.messages(client)[0].processed_at is not None


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{oops", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"client_id": "abcdefgh"}', 422, "'text'"),
        (b'{"text": "   ", "client_id": "abcdefgh"}', 422, "'text'"),
        (b'{"text": "halo"}', 422, "'client_id'"),
        (b'{"text": "halo", "client_id": "short"}', 422, "'client_id'"),
        (b'{"text": "halo", "client_id": "has:colon!"}', 422, "'client_id'"),
        (b'{"text": "halo", "client_id": "abcdefgh", "title": 5}', 422, "'title'"),
        (b'{"text": "' + b"a" * 4001 + b'", "client_id": "abcdefgh"}', 413, "4000"),
    ],
)
def test_bad_turns_are_refused_with_a_reason_and_nothing_stored(app, body, status, reason):
    client = app.browser()
    response = client.post("/chat/api/messages", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status and reason in response.json()["detail"]
    assert app.conversation(client) is None


# -- the live connection -------------------------------------------------------------------------


def test_an_agent_reply_reaches_the_open_page_and_a_closed_page_finds_it_on_return(app):
    client = app.browser()
    say(client, "saya mau bicara dengan orang")
    agent, csrf, conversation_id = hand_to_agent(app, client)
    with live_events(app, client) as live:
        wait_until(lambda: app.conversation(client).page_open_until is not None)
        first = agent_says(agent, csrf, conversation_id, "Halo, saya Agen Web. Ada yang bisa dibantu?")
        wait_until(lambda: "Halo, saya Agen Web. Ada yang bisa dibantu?" in live.texts(), seconds=10)
        event = live.events[-1]
        assert event["id"] == first and event["author"] == "agent" and event["direction"] == "out"
        wait_until(lambda: status_of(app, first) == "sent")
    wait_until(lambda: app.conversation(client).page_open_until is None)

    # the page is closed now: the next reply waits, queued, and is shown when the page opens again
    second = agent_says(agent, csrf, conversation_id, "Kami tunggu kabarnya ya.")
    time.sleep(0.5)
    assert status_of(app, second) == "queued", "no page to show it on: kept, not failed"
    history = client.get("/chat/api/history").json()
    assert history["with_agent"] is True
    assert [m["text"] for m in history["messages"]][-2:] == [
        "Halo, saya Agen Web. Ada yang bisa dibantu?",
        "Kami tunggu kabarnya ya.",
    ]
    # the debtor writes while the agent has it: stored, no bot answer
    quiet = say(client, "baik pak").json()
    assert quiet["replies"] == [] and quiet["with_agent"] is True


def test_the_handback_notice_reaches_the_open_page_and_the_bot_answers_again(app):
    client = app.browser()
    say(client, "mau ngomong sama petugas")
    agent, csrf, conversation_id = hand_to_agent(app, client)
    with live_events(app, client) as live:
        wait_until(lambda: app.conversation(client).page_open_until is not None)
        resolved = agent.post(f"/console/api/conversations/{conversation_id}/resolve", headers={"X-CSRF-Token": csrf})
        assert resolved.status_code == 200, resolved.text
        wait_until(lambda: any("asisten otomatis" in t for t in live.texts()), seconds=10)
        assert live.events[-1]["author"] == "system"
    with app.factory() as session:
        assert session.scalar(select(Handoff.status).where(Handoff.conversation_id == conversation_id)) == "resolved"
    answer = say(client, "berapa tagihan saya").json()
    assert answer["with_agent"] is False and answer["replies"][0]["text"].startswith("berapa tagihan saya via")


def test_receipts_move_only_this_sessions_messages_and_only_forward(app):
    client = app.browser()
    reply_id = say(client, "halo").json()["replies"][0]["id"]
    other = app.browser()
    other_reply = say(other, "halo").json()["replies"][0]["id"]

    def receipt(who: httpx.Client, ids: list, status: str) -> httpx.Response:
        return who.post("/chat/api/receipts", json={"ids": ids, "status": status})

    assert receipt(client, [reply_id, other_reply], "read").json() == {"updated": 1}
    assert status_of(app, reply_id) == "read" and status_of(app, other_reply) == "sent"
    assert receipt(client, [reply_id], "delivered").json() == {"updated": 0}, "never backwards"
    assert status_of(app, reply_id) == "read"
    inbound_id = app.messages(client)[0].id
    assert receipt(client, [inbound_id], "read").json() == {"updated": 0}, "only outbound messages"
    for ids, status, code in [
        ([reply_id], "seen", 422),
        ("1", "read", 422),
        ([True], "read", 422),
        ([1.5], "read", 422),
        ([10**30], "read", 422),
        ([-1], "read", 422),
        (list(range(1, 502)), "read", 413),
    ]:
        assert receipt(client, ids, status).status_code == code, (ids, status)


def test_end_chat_forgets_this_browser_but_keeps_the_conversation(app):
    client = app.browser()
    say(client, "halo")
    sid = session_id(client)
    ended = client.post("/chat/api/end")
    assert ended.status_code == 200 and f"{COOKIE}=" in ended.headers["set-cookie"]
    assert client.get("/chat/api/history").status_code == 401
    with app.factory() as session:
        kept = session.scalar(select(Conversation).where(Conversation.sender_id == sid))
        assert kept is not None and len(kept.messages) == 2


def test_the_page_speaks_the_browsers_language(app):
    english = httpx.get(f"{app.url}/chat", headers={"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
    assert '<html lang="en">' in english.text and "contract number and date of birth" in english.text
    indonesian = httpx.get(f"{app.url}/chat", headers={"Accept-Language": "id-ID,id;q=0.9"})
    assert '<html lang="id">' in indonesian.text and "nomor kontrak dan tanggal lahir" in indonesian.text
    chosen = httpx.get(f"{app.url}/chat?lang=en", headers={"Accept-Language": "id"})
    assert '<html lang="en">' in chosen.text
    odd = httpx.get(f"{app.url}/chat", headers={"Accept-Language": ";;;q=x,*"})
    assert odd.status_code == 200 and '<html lang="id">' in odd.text


def test_a_reminder_reaches_the_page_the_verified_debtor_has_open(tmp_path: Path, graph_api: Any, bot_api: Any):
    """The app's own scheduler (planning and dispatching every second here) picks the open page."""
    with chat_app(
        tmp_path,
        graph_api,
        bot_api,
        TAGIH_SCHEDULER=True,
        TAGIH_PLAN_INTERVAL_MINUTES=0.02,
        TAGIH_DISPATCH_INTERVAL_SECONDS=1,
    ) as app:
        ref = "WEB-REMIND-1"
        before = len(graph_api.requests)  # the fake platform is shared by the whole test session
        with app.factory.begin() as session:
            import_account_rows(
                session,
                [
                    {
                        "account_ref": ref,
                        "name": "Debitur Web",
                        "phone": "+6281277770042",
                        "language": "id",
                        "timezone": "Asia/Jakarta",
                        "currency": "IDR",
                        "amount_due": "900000",
                        "due_date": "2027-03-01",  # nothing due yet
                        "birth_date": "1990-01-01",
                    }
                ],
            )
        client = app.browser()
        say(client, "halo")
        with app.factory.begin() as session:  # the debtor answered the identity check on this page
            conversation = session.scalar(select(Conversation).where(Conversation.sender_id == session_id(client)))
            account = session.scalar(select(Account).where(Account.ref == ref))
            link_conversation(session, conversation, account.debtor, how="identity_check", now=FIXED_NOW)
            conversation.account_id = account.id
        with live_events(app, client) as live:
            wait_until(lambda: app.conversation(client).page_open_until is not None)
            with app.factory.begin() as session:
                session.scalar(select(Account).where(Account.ref == ref)).due_date = FIXED_NOW.date()
            wait_until(lambda: any(ref in text for text in live.texts()), seconds=30)
            reminder = [e for e in live.events if ref in (e["text"] or "")][0]
            assert reminder["author"] == "system" and "Rp900.000" in reminder["text"]
        with app.factory() as session:
            nudge = session.scalar(select(Nudge).join(Account).where(Account.ref == ref))
            assert nudge.status == "sent" and nudge.channel == "web"
        on_whatsapp = [r["json"] for r in graph_api.requests[before:] if r["json"].get("to") == "6281277770042"]
        assert not on_whatsapp, "not on WhatsApp too"
