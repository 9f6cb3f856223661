"""Fuzzing every inbound route with hostile JSON (security finding 5): no 5xx, ever, and the app
still answers afterwards.

Bodies are valid requests with one to three parts replaced or removed (by nothing, wrong types,
lone surrogates, NUL, huge or non-finite numbers, nesting deeper than allowed), arbitrary JSON,
arbitrary bytes, and nesting far deeper than the stack. Valid web chat messages reach a fake Rasa
that answers, so a 503 would be a real failure. Examples are derandomised (the same every run) and
bounded (``max_examples`` per route, a per-example deadline); the whole module takes well under a
minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db.models import Account, Conversation, InboundRejection, Message, Payment
from bot.services.accounts import load_demo_if_empty
from bot.services.conversations import get_or_create_conversation
from tests.security._hostile import API_KEY, JSON, Served, action_call, post_telegram, post_whatsapp, served_app
from tests.security._strategies import TEXT, bodies, dumps
from tests.support import TELEGRAM_SECRET, telegram_callback, telegram_update, whatsapp_message, whatsapp_status

FUZZ = settings(
    max_examples=60,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# --- valid requests to start from ------------------------------------------------------------------

PHONE = "+6281234567801"  # DEMO-1001's number: a known debtor
WEB = st.builds(
    lambda sender, text: {"sender": sender, "message": text},
    st.sampled_from(["fuzz-web", "fuzz-web-2"]) | st.text(min_size=1, max_size=128),
    st.sampled_from(["halo", "berapa tagihan saya", "DEMO-1001", "12-04-1988"]) | TEXT,
)
WHATSAPP_TEXT = st.builds(
    lambda text, n: whatsapp_message(PHONE, {"type": "text", "text": {"body": text}}, wamid=f"wamid.fuzz-{n}"),
    TEXT,
    st.integers(min_value=0, max_value=10**6),
)
WHATSAPP = WHATSAPP_TEXT | st.sampled_from(
    [
        whatsapp_message(PHONE, {"type": "text", "text": {"body": "halo"}}, wamid="wamid.fuzz1"),
        whatsapp_message(
            PHONE,
            {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm"}}},
            wamid="wamid.fuzz2",
        ),
        whatsapp_message(PHONE, {"type": "image", "image": {"id": "m1", "caption": "bukti"}}, wamid="wamid.fuzz3"),
        whatsapp_status(PHONE, "wamid.out1", "failed", error={"code": 131047, "title": "Re-engagement message"}),
    ]
)
TELEGRAM_TEXT = st.builds(
    lambda text, n: telegram_update(700_100 + n, 600_001, text=text), TEXT, st.integers(min_value=0, max_value=10**6)
)
TELEGRAM = TELEGRAM_TEXT | st.sampled_from(
    [
        telegram_update(700_001, 600_001, text="halo"),
        telegram_update(700_002, 600_001, text="/start abc"),
        telegram_callback(700_003, 600_001, "/affirm"),
        telegram_update(
            700_004, 600_001, contact={"phone_number": "+6281234567801", "first_name": "Budi", "user_id": 600_001}
        ),
        telegram_update(700_005, 600_001, photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]),
    ]
)
VERIFIED = "fuzz-verified"  # a web chat conversation verified as DEMO-1001's, so actions reach the account
ACTIONS = st.builds(
    action_call,
    st.sampled_from(
        [
            "action_session_start",
            "action_ask_balance",
            "action_payment_method",
            "action_record_payment_claim",
            "action_record_promise",
            "action_ask_installment_first_date",
            "action_request_human",
            "action_change_language",
            "action_default_fallback",
            "validate_identity_form",
            "validate_promise_form",
        ]
    ),
    sender=st.sampled_from([f"web:{VERIFIED}", "web:fuzz-nobody"]),
)
NLG = st.sampled_from(["utter_greet", "utter_ask_account_ref"]).map(
    lambda name: {"response": name, "arguments": {}, "tracker": {"sender_id": "x", "slots": {"language": "en"}}}
)
PAYMENTS = st.just(
    {"account_ref": "DEMO-1001", "amount": "1000", "currency": "IDR", "paid_at": "2026-11-20", "reference": "FZ-1"}
)
ACCOUNTS = st.just(
    {
        "accounts": [
            {
                "account_ref": "FZ-1",
                "name": "Fuzz",
                "phone": "081234500001",
                "language": "id",
                "timezone": "Asia/Jakarta",
                "currency": "IDR",
                "amount_due": "1000",
                "due_date": "2026-11-25",
                "birth_date": "1990-01-01",
            }
        ],
        "skip_invalid": False,
    }
)


# --- the app -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, graph_api: Any, bot_api: Any) -> Iterator[Served]:
    # The replies to fuzzed messages that are valid go out at once, so waiting for them stays short.
    fast = {"TELEGRAM_CHAT_PER_SECOND": 1000, "TELEGRAM_GLOBAL_PER_SECOND": 1000, "WHATSAPP_RATE_PER_SECOND": 1000}
    with served_app(tmp_path_factory.mktemp("fuzz"), graph_api, bot_api, **fast) as app:
        load_demo_if_empty(app.factory)
        with app.factory.begin() as session:
            account = session.scalar(select(Account).where(Account.ref == "DEMO-1001"))
            conversation, _ = get_or_create_conversation(session, channel="web", sender_id=VERIFIED, language="id")
            conversation.verified, conversation.account_id, conversation.debtor_id = True, account.id, account.debtor_id
        yield app


def settled_counts(app: Served) -> tuple[int, ...]:
    """What an inbound request could write, once background processing of earlier ones is done."""
    app.client.portal.call(app.client.app.state.channels.drain)
    with app.factory() as session:
        return tuple(
            session.scalar(statement) or 0
            for statement in (
                select(func.count(Conversation.id)),
                select(func.count(Message.id)).where(Message.direction == "in"),
                select(func.count(InboundRejection.id)),
                select(func.count(Account.id)),
                select(func.count(Payment.id)),
            )
        )


def no_server_error(response: Any) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


# --- one test per route and credential --------------------------------------------------------------


@FUZZ
@given(body=bodies(WEB))
def test_web_chat(served, body):
    response = served.client.post("/webhooks/rest/webhook", content=body, headers=JSON)
    no_server_error(response)
    if response.status_code >= 400:
        assert response.json()["detail"]


@FUZZ
@given(body=bodies(WHATSAPP))
def test_whatsapp_signed_is_always_acknowledged(served, body):
    response = post_whatsapp(served.client, body)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["status"] in ("ok", "rejected", "partly rejected")


@FUZZ
@given(body=bodies(WHATSAPP), secret=st.sampled_from([None, "forged-secret"]))
def test_whatsapp_forged_is_refused_and_stores_nothing(served, body, secret):
    before = settled_counts(served)
    response = post_whatsapp(served.client, body, secret=secret)
    assert response.status_code == (401 if secret is None else 403)
    assert settled_counts(served) == before


@FUZZ
@given(body=bodies(TELEGRAM))
def test_telegram_with_the_secret_is_always_acknowledged(served, body):
    response = post_telegram(served.client, body)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["status"] in ("ok", "rejected")


@FUZZ
@given(body=bodies(TELEGRAM), secret=st.sampled_from([None, "forged", TELEGRAM_SECRET + "x"]))
def test_telegram_without_the_secret_is_refused_and_stores_nothing(served, body, secret):
    before = settled_counts(served)
    response = post_telegram(served.client, body, secret=secret)
    assert response.status_code == 403
    assert settled_counts(served) == before


@FUZZ
@given(body=bodies(ACTIONS), route=st.sampled_from(["/actions/webhook", "/actions/nlg"]))
def test_action_webhook_with_the_token(served, body, route):
    no_server_error(served.client.post(f"{route}?token=test-action-token", content=body, headers=JSON))


@FUZZ
@given(body=bodies(NLG))
def test_nlg_with_the_token(served, body):
    no_server_error(served.client.post("/actions/nlg?token=test-action-token", content=body, headers=JSON))


@FUZZ
@given(body=bodies(ACTIONS), token=st.sampled_from(["", "?token=", "?token=nope"]))
def test_action_webhook_without_the_token(served, body, token):
    assert served.client.post(f"/actions/webhook{token}", content=body, headers=JSON).status_code == 401


@FUZZ
@given(body=st.one_of(bodies(PAYMENTS), bodies(ACCOUNTS)), route=st.sampled_from(["/api/payments", "/api/accounts"]))
def test_api_with_a_key(served, body, route):
    no_server_error(served.client.post(route, content=body, headers={**JSON, "X-API-Key": API_KEY}))


@FUZZ
@given(ref=TEXT)
def test_api_account_lookup_with_a_key(served, ref):
    path = "/api/accounts/" + quote(ref, safe="", errors="surrogatepass")
    no_server_error(served.client.get(path, headers={"X-API-Key": API_KEY}))


@FUZZ
@given(body=bodies(PAYMENTS), key=st.sampled_from([None, "wrong-key"]))
def test_api_without_a_key(served, body, key):
    before = settled_counts(served)
    headers = dict(JSON) if key is None else {**JSON, "X-API-Key": key}
    assert served.client.post("/api/payments", content=body, headers=headers).status_code == 401
    assert settled_counts(served) == before


def test_the_service_still_answers_afterwards(served):
    """Last in the module (pytest runs a module's tests in file order): after all of the above."""
    assert served.client.get("/health").status_code == 200
    answer = served.client.post("/webhooks/rest/webhook", json={"sender": "fuzz-after", "message": "halo"})
    assert answer.status_code == 200 and answer.json()[0]["text"]
    whatsapp = whatsapp_message(PHONE, {"type": "text", "text": {"body": "halo"}}, wamid="wamid.fuzz-after")
    assert post_whatsapp(served.client, dumps(whatsapp)).json() == {"status": "ok", "accepted": 1, "duplicates": 0}
