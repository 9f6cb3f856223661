"""Hostile input on every inbound route (security finding 5): never a 5xx, always a reason.

Unauthenticated or forged requests get a 4xx and store nothing. A platform delivery that passed
verification but can never be processed is acknowledged with 200 and kept in ``inbound_rejections``
(any other answer makes WhatsApp and Telegram re-send it for days).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Message
from tests.security._hostile import (
    API_KEY,
    JSON,
    Served,
    action_call,
    post_telegram,
    post_whatsapp,
    rejections,
    served_app,
    stored,
)
from tests.security._strategies import dumps
from tests.support import telegram_callback, telegram_update, whatsapp_message

DEEP_LIST = b"[" * 50_000 + b"]" * 50_000
PHONE = "+6281299990001"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, graph_api: Any, bot_api: Any) -> Iterator[Served]:
    with served_app(tmp_path_factory.mktemp("hostile"), graph_api, bot_api) as app:
        yield app


def added(before: dict[str, int], **rows: int) -> dict[str, int]:
    return {table: count + rows.get(table, 0) for table, count in before.items()}


# --- web chat (no credentials at all) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (DEEP_LIST, 400, "nested deeper than"),
        (b'{"sender": "a", "message": ' + b'{"x":' * 40_000 + b"1" + b"}" * 40_000 + b"}", 400, "nested deeper"),
        (b'{"sender": "a", "message": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "nested deeper than 32"),
        (b'{"sender": "a", "message": "halo \\ud800"}', 400, "$.message contains a lone surrogate"),
        (b'{"sender": "a\\udfff", "message": "halo"}', 400, "$.sender contains a lone surrogate"),
        (b'{"sender": "a", "message": "halo \xed\xa0\x80"}', 400, "lone surrogate"),  # surrogate as raw bytes
        (b'{"sender": "a", "message": "halo", "metadata": {"\\ud800": 1}}', 400, "a key at $.metadata"),
        (b'{"sender": "a\\u0000", "message": "halo"}', 400, "NUL"),
        (b'{"sender": "a", "message": "halo", "metadata": {"n": NaN}}', 400, "NaN is not a JSON number"),
        (b'{"sender": "a", "message": "halo", "metadata": {"n": 1e400}}', 400, "out of range"),
        (b'{"sender": "a", "message": "halo", "metadata": {"n": ' + b"9" * 5000 + b"}}", 400, "not valid JSON"),
        (b'{"sender": "a", "message": "\xff\xfe"}', 400, "not valid JSON"),
        (b'{"sender": "a", "message": 5}', 422, "'message' must be a string"),
        (b'{"sender": {"id": 1}, "message": "halo"}', 422, "'sender' must be a string"),
        (b'{"sender": "a", "message": "halo", "metadata": "x"}', 422, "'metadata'"),
        (b'{"sender": "' + b"s" * 129 + b'", "message": "halo"}', 422, "'sender'"),
    ],
    ids=[
        "50000-deep",
        "40000-deep-in-field",
        "40-deep",
        "surrogate-escape",
        "surrogate-in-sender",
        "surrogate-raw-bytes",
        "surrogate-key",
        "nul",
        "nan",
        "float-overflow",
        "5000-digit-int",
        "invalid-utf8",
        "message-number",
        "sender-object",
        "metadata-string",
        "sender-too-long",
    ],
)
def test_web_chat_refuses_hostile_json_with_a_reason_and_stores_nothing(served, body, status, reason):
    before = stored(served.factory)
    response = served.client.post("/webhooks/rest/webhook", content=body, headers=JSON)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]
    assert stored(served.factory) == before


def test_web_chat_still_answers_a_plain_message(served):
    response = served.client.post("/webhooks/rest/webhook", json={"sender": "hostile-plain", "message": "halo"})
    assert response.status_code == 200
    assert response.json()[0]["text"].startswith("halo via")


# --- request bodies are capped before they are read -----------------------------------------------


def test_a_declared_body_over_the_cap_is_refused_413_before_it_is_read(served):
    cap = served.settings.max_body_bytes
    body = b'{"sender": "a", "message": "' + b"a" * cap + b'"}'
    before = stored(served.factory)
    response = served.client.post("/webhooks/rest/webhook", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {cap} bytes"}
    assert stored(served.factory) == before


def test_a_streamed_body_is_cut_off_with_413_once_it_passes_the_cap(served):
    def chunks() -> Iterator[bytes]:
        yield b'{"sender": "a", "message": "'
        for _ in range(served.settings.max_body_bytes // 1024 + 1):
            yield b"a" * 1024
        yield b'"}'

    before = stored(served.factory)
    response = served.client.post("/webhooks/rest/webhook", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers  # sent chunked: only counting can stop it
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert stored(served.factory) == before


def test_a_streamed_body_under_the_cap_is_read_as_usual(served):
    response = served.client.post(
        "/webhooks/rest/webhook", content=iter([b'{"sender": "streamed", ', b'"message": "halo"}']), headers=JSON
    )
    assert response.status_code == 200


@pytest.mark.parametrize("route", ["/webhooks/whatsapp", "/webhooks/telegram", "/actions/webhook", "/api/payments"])
def test_every_route_has_the_cap(served, route):
    response = served.client.post(route, content=b" " * (served.settings.max_body_bytes + 1), headers=JSON)
    assert response.status_code == 413


def test_bulk_account_upserts_have_the_larger_cap(served):
    # Bigger than the default cap, so only the larger one lets it reach the route (which finds it empty).
    body = b"{" + b" " * (2 * served.settings.max_body_bytes) + b"}"
    response = served.client.post("/api/accounts", content=body, headers={**JSON, "X-API-Key": API_KEY})
    assert response.status_code == 422
    assert "'accounts' is required" in response.json()["detail"]


async def test_a_content_length_that_is_not_a_number_is_400(served):
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/rest/webhook",
        "raw_path": b"/webhooks/rest/webhook",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"12abc"), (b"content-type", b"application/json")],
        "client": ("203.0.113.9", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    await served.client.app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"Content-Length is not a number" in sent[1]["body"]


# --- WhatsApp: forged requests store nothing; signed but unprocessable ones are kept as rejected ---


def whatsapp_text(text: Any, wamid: str, *, timestamp: Any = "1795399200") -> dict[str, Any]:
    delivery = whatsapp_message(PHONE, {"type": "text", "text": {"body": text}}, wamid=wamid)
    delivery["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = timestamp
    return delivery


@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        (dumps(whatsapp_text("\ud800", "wamid.forged1")), "not-the-app-secret", 403),
        (dumps(whatsapp_text("halo", "wamid.forged2", timestamp=1e20)), "not-the-app-secret", 403),
        (DEEP_LIST, None, 401),
        (dumps(whatsapp_text("halo", "wamid.forged3")), None, 401),
    ],
    ids=["wrong-signature-surrogate", "wrong-signature-1e20", "unsigned-deep", "unsigned-valid"],
)
def test_forged_whatsapp_deliveries_are_refused_and_nothing_of_them_is_stored(served, body, secret, status):
    before = stored(served.factory)
    response = post_whatsapp(served.client, body, secret=secret)
    assert response.status_code == status
    assert "X-Hub-Signature-256" in response.json()["detail"]
    assert stored(served.factory) == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (dumps(whatsapp_text("halo \ud800", "wamid.s1")), "text at $.entry[0].changes[0].value.messages[0].text.body"),
        (dumps(whatsapp_text("halo", "wamid.t1", timestamp=1e20)), "message 'wamid.t1': timestamp"),
        (dumps(whatsapp_text("halo", "wamid.t2", timestamp="99999999999999999999")), "timestamp"),
        (dumps(whatsapp_text(42, "wamid.n1")), "message 'wamid.n1': 'text.body' is not a string"),
        (dumps(whatsapp_text({"nested": ["junk"]}, "wamid.n2")), "'text.body' is not a string"),
        (DEEP_LIST, "nested deeper than 32 levels"),
        (b"{not json", "not valid JSON"),
        (b'{"object": "page"}', "whatsapp_business_account"),
        (dumps({"object": "whatsapp_business_account", "entry": "junk"}), "'entry' is not a list"),
    ],
    ids=["surrogate", "ts-1e20", "ts-huge", "text-number", "text-object", "deep", "not-json", "not-whatsapp", "junk"],
)
def test_signed_whatsapp_delivery_that_can_never_be_processed_is_kept_as_rejected_and_acknowledged(
    served, body, reason
):
    before = stored(served.factory)
    response = post_whatsapp(served.client, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "rejected" and answer["accepted"] == 0
    assert reason in answer["reason"]
    (row,) = rejections(served.factory, body)
    assert (row.channel, row.body_size, row.body_sha256) == ("whatsapp", len(body), hashlib.sha256(body).hexdigest())
    assert reason in row.reason
    assert row.excerpt == body[:2000].decode("utf-8", "backslashreplace")
    assert stored(served.factory) == added(before, inbound_rejections=1)


def test_raw_surrogate_bytes_are_escaped_in_the_excerpt(served):
    body = dumps(whatsapp_text("halo", "wamid.raw")).replace(b'"halo"', b'"halo \xed\xa0\x80"')
    assert post_whatsapp(served.client, body).json()["status"] == "rejected"
    (row,) = rejections(served.factory, body)
    assert "halo \\xed\\xa0\\x80" in row.excerpt


def test_one_bad_message_among_good_ones_is_rejected_alone(served):
    delivery = whatsapp_text("sy sdh bayar", "wamid.good")
    messages = delivery["entry"][0]["changes"][0]["value"]["messages"]
    bad = copy.deepcopy(messages[0]) | {"id": "wamid.bad", "timestamp": 1e20}
    messages.append(bad)
    body = dumps(delivery)
    response = post_whatsapp(served.client, body)
    assert response.status_code == 200
    assert response.json() == {
        "status": "partly rejected",
        "accepted": 1,
        "duplicates": 0,
        "reason": "message 'wamid.bad': timestamp is not a number of seconds",
    }
    served.client.portal.call(served.client.app.state.channels.drain)  # its reply, before the next test
    with served.factory() as session:
        kept = set(session.scalars(select(Message.channel_message_id).where(Message.direction == "in")))
    assert "wamid.good" in kept and "wamid.bad" not in kept
    (row,) = rejections(served.factory, body)
    assert "wamid.bad" in row.reason and "wamid.good" not in row.reason


def test_the_same_rejected_delivery_sent_again_is_recorded_once(served):
    body = dumps(whatsapp_text("\udfff", "wamid.again"))
    first, second = post_whatsapp(served.client, body), post_whatsapp(served.client, body)
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "rejected"
    assert len(rejections(served.factory, body)) == 1


# --- Telegram -------------------------------------------------------------------------------------


def update_with(message_changes: dict[str, Any]) -> dict[str, Any]:
    update = telegram_update(900_001, 555_001, text="halo")
    update["message"].update(message_changes)
    return update


def callback_without_from() -> dict[str, Any]:
    update = telegram_callback(900_005, 555_001, "/affirm")
    del update["callback_query"]["from"]
    return update


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"update_id": 900_010, "message": "halo"}, "message is not an object"),
        (update_with({"text": 12345}), "message.text is not a string"),
        (update_with({"date": 1e20}), "message.date"),
        (update_with({"date": 10**20}), "message.date is out of range"),
        (callback_without_from(), "callback_query.from is not an object"),
        (update_with({"text": "halo \ud800"}), "text at $.message.text contains a lone surrogate"),
        (update_with({"chat": {"id": "not-a-number"}}), "message.chat.id"),
        (update_with({"photo": [{"file_id": 7}]}), "message.photo[].file_id"),
        (update_with({"contact": "0812"}), "message.contact is not an object"),
        ({"update_id": 10**30, "message": {}}, "update_id is out of range"),
        ({"update_id": 900_011, "edited_message": {"chat": {"id": 1}, "date": "x"}}, "not a Telegram Update"),
    ],
    ids=[
        "message-string",
        "text-number",
        "date-1e20",
        "date-10e20",
        "callback-no-from",
        "surrogate",
        "chat-id-string",
        "photo-file-id-number",
        "contact-string",
        "update-id-huge",
        "other-kind-junk",
    ],
)
def test_telegram_update_that_can_never_be_processed_is_acknowledged_and_kept_as_rejected(served, update, reason):
    body = dumps(update)
    before = stored(served.factory)
    response = post_telegram(served.client, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected" and reason in response.json()["reason"]
    (row,) = rejections(served.factory, body)
    assert row.channel == "telegram" and reason in row.reason and row.body_sha256 == hashlib.sha256(body).hexdigest()
    assert stored(served.factory) == added(before, inbound_rejections=1)


@pytest.mark.parametrize("secret", ["wrong-secret", None])
@pytest.mark.parametrize(
    "body", [dumps({"update_id": 1, "message": "halo"}), DEEP_LIST, b"\xff"], ids=["junk", "deep", "bytes"]
)
def test_telegram_updates_without_the_secret_are_refused_and_nothing_stored(served, body, secret):
    before = stored(served.factory)
    response = post_telegram(served.client, body, secret=secret)
    assert response.status_code == 403
    assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
    assert stored(served.factory) == before


# --- the action webhook (Rasa's token) ------------------------------------------------------------


def with_tracker(**changes: Any) -> dict[str, Any]:
    call = action_call()
    call["tracker"].update(changes)
    return call


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (DEEP_LIST, "nested deeper than"),
        (dumps(action_call(sender="web:\ud800")), "lone surrogate"),
        (dumps([action_call()]), "JSON object"),
        (dumps(action_call() | {"next_action": ["action_ask_balance"]}), "'next_action'"),
        (dumps(action_call() | {"tracker": 5}), "'tracker' must be an object"),
        (dumps(action_call() | {"domain": []}), "'domain' must be an object"),
        (dumps(with_tracker(sender_id=None)), "'sender_id' string"),
        (dumps(with_tracker(slots=["language"])), "'tracker.slots' must be dict"),
        (dumps(with_tracker(slots=None)), "'tracker.slots' must be dict"),
        (dumps(with_tracker(slots={"language": "0"})), "'tracker.slots.language' must be one of id, en"),
        (dumps(with_tracker(events=[1, 2])), "'tracker.events' must be a list of objects"),
        (dumps(with_tracker(latest_message={"intent": "ask_balance"})), "'tracker.latest_message.intent' must be dict"),
        (dumps(with_tracker(latest_message={"intent": {"name": 7}})), "intent.name"),
        (dumps(with_tracker(latest_message={"text": ["x"]})), "'tracker.latest_message.text' must be str"),
        (dumps(with_tracker(active_loop="form")), "'tracker.active_loop' must be dict"),
    ],
    ids=[
        "deep",
        "surrogate",
        "list",
        "action-list",
        "tracker-number",
        "domain-list",
        "no-sender",
        "slots-list",
        "slots-null",
        "language-unknown",
        "events-numbers",
        "intent-string",
        "intent-name-number",
        "text-list",
        "active-loop-string",
    ],
)
def test_action_webhook_refuses_hostile_calls_with_400(served, call, reason):
    response = served.client.post("/actions/webhook?token=test-action-token", content=call, headers=JSON)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ({"response": "utter_greet", "tracker": [1]}, "'tracker' and 'arguments' must be objects"),
        ({"response": "utter_greet", "arguments": "x"}, "'tracker' and 'arguments' must be objects"),
        ({"response": "utter_greet", "tracker": {"slots": "id"}}, "'tracker.slots' must be an object"),
        ({"response": ["utter_greet"]}, "needs 'response'"),
    ],
)
def test_nlg_endpoint_refuses_hostile_calls_with_400(served, call, reason):
    response = served.client.post("/actions/nlg?token=test-action-token", content=dumps(call), headers=JSON)
    assert response.status_code == 400
    assert reason in response.json()["detail"]


def test_action_webhook_without_the_token_is_401_whatever_the_body(served):
    response = served.client.post("/actions/webhook", content=DEEP_LIST, headers=JSON)
    assert response.status_code == 401


# --- the operations API ---------------------------------------------------------------------------


def payment(**changes: Any) -> dict[str, Any]:
    return {"account_ref": "DEMO-1001", "amount": "1000", "paid_at": "2026-11-20", "reference": "R-1"} | changes


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/api/payments", DEEP_LIST, "nested deeper than"),
        ("/api/payments", dumps(payment(account_ref="DEMO-\ud800")), "$.account_ref contains a lone surrogate"),
        ("/api/payments", dumps(payment(reference="R\u0000")), "NUL"),
        ("/api/accounts", dumps({"accounts": [{"account_ref": "X-\udc00", "name": "a"}]}), "lone surrogate"),
        ("/api/accounts", b'{"accounts": ' + b"[" * 60_000 + b"]" * 60_000 + b"}", "nested deeper than"),
    ],
    ids=["payment-deep", "payment-surrogate", "payment-nul", "accounts-surrogate", "accounts-deep"],
)
def test_api_refuses_hostile_json_with_400_and_writes_nothing(served, path, body, reason):
    before = stored(served.factory)
    response = served.client.post(path, content=body, headers={**JSON, "X-API-Key": API_KEY})
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert stored(served.factory) == before


def test_api_without_a_key_never_reads_the_body(served):
    response = served.client.post("/api/payments", content=DEEP_LIST, headers=JSON)
    assert response.status_code == 401


# --- the last resort ------------------------------------------------------------------------------


def test_a_recursion_error_a_route_did_not_catch_is_400_not_500(served):
    def recurse() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    served.client.app.add_api_route("/__test__/recursion", recurse)
    try:
        response = served.client.get("/__test__/recursion")
    finally:
        served.client.app.router.routes.pop()
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON nested too deeply"}


def test_the_app_still_answers_after_all_of_this(served: Served):
    assert served.client.get("/health").status_code == 200
    response = served.client.post("/webhooks/rest/webhook", json={"sender": "hostile-after", "message": "halo"})
    assert response.status_code == 200
