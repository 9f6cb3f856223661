"""WhatsApp end to end: signed webhook in -> stored -> Rasa -> reply out to a fake Graph API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, ContactPreference, Message
from bot.messaging.inbox import store_delivery
from bot.web.app import create_app
from channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from tests.messaging.conftest import inbound, next_id, outbound, post_whatsapp
from tests.support import (
    WHATSAPP_VERIFY_TOKEN,
    AppServer,
    fixed_clock,
    free_port,
    wait_until,
    whatsapp_message,
    whatsapp_status,
)

pytestmark = pytest.mark.rasa


def sent_to(graph_api, phone: str) -> list[dict]:
    digits = phone.lstrip("+")
    return [r["json"] for r in graph_api.requests if (r.get("json") or {}).get("to") == digits]


def text_of(request: dict) -> str:
    if request.get("type") == "text":
        return request["text"]["body"]
    if request.get("type") == "interactive":
        return request["interactive"]["body"]["text"]
    return ""


def say(stack, phone: str, text: str) -> str:
    wamid = f"wamid.TEST{next_id()}"
    response = post_whatsapp(stack, whatsapp_message(phone, {"type": "text", "text": {"body": text}}, wamid=wamid))
    assert response.status_code == 200, response.text
    return wamid


def test_subscription_handshake(live_stack):
    import httpx

    ok = httpx.get(
        f"{live_stack.app_url}/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = httpx.get(
        f"{live_stack.app_url}/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


def test_known_number_is_verified_and_answered_in_indonesian(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    say(live_stack, debtor.phone, "tagihan saya berapa?")
    replies = wait_until(lambda: sent_to(graph_api, debtor.phone))
    assert "Rp1.750.000" in text_of(replies[-1])
    rows = wait_until(
        lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.delivery_status == "sent"]
    )
    assert rows[0].channel_message_id.startswith("wamid.")


def test_known_number_in_english_with_buttons_as_interactive_reply(live_stack, graph_api, new_debtor):
    debtor = new_debtor("en")
    say(live_stack, debtor.phone, "hello")
    replies = wait_until(lambda: sent_to(graph_api, debtor.phone))
    greeting = replies[-1]
    assert greeting["type"] == "interactive" and greeting["interactive"]["type"] == "button"
    assert "Hello" in text_of(greeting)
    ids = [b["reply"]["id"] for b in greeting["interactive"]["action"]["buttons"]]
    assert "/ask_balance" in ids
    # pressing a button sends its payload to the dialogue
    press = whatsapp_message(
        debtor.phone,
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "/ask_payment_method", "title": "How to pay"},
            },
        },
        wamid=f"wamid.TEST{next_id()}",
    )
    assert post_whatsapp(live_stack, press).status_code == 200
    wait_until(lambda: any("virtual account" in text_of(r).lower() for r in sent_to(graph_api, debtor.phone)))


def test_unknown_number_goes_through_the_identity_check(live_stack, graph_api):
    phone = f"+6289{next_id()}"
    say(live_stack, phone, "berapa tagihan saya?")
    replies = wait_until(lambda: sent_to(graph_api, phone))
    assert "nomor kontrak" in text_of(replies[-1]) and "Rp" not in text_of(replies[-1])


def test_duplicate_delivery_is_processed_once(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    payload = whatsapp_message(debtor.phone, {"type": "text", "text": {"body": "halo"}}, wamid=f"wamid.DUP{next_id()}")
    first = post_whatsapp(live_stack, payload)
    second = post_whatsapp(live_stack, payload)
    assert first.json()["accepted"] == 1 and second.json()["duplicates"] == 1
    wait_until(lambda: sent_to(graph_api, debtor.phone))
    assert len(inbound(live_stack, "whatsapp", debtor.phone)) == 1
    wait_until(lambda: all(m.processed_at for m in inbound(live_stack, "whatsapp", debtor.phone)))
    assert len(sent_to(graph_api, debtor.phone)) == 1


@pytest.mark.parametrize(
    ("headers_secret", "sign", "status"),
    [("wrong-secret", True, 403), (None, False, 401)],
)
def test_forged_or_missing_signature_is_refused_and_nothing_stored(live_stack, headers_secret, sign, status):
    phone = f"+6285{next_id()}"
    payload = whatsapp_message(phone, {"type": "text", "text": {"body": "halo"}}, wamid=f"wamid.F{next_id()}")
    response = post_whatsapp(live_stack, payload, secret=headers_secret or "x", sign=sign)
    assert response.status_code == status
    assert inbound(live_stack, "whatsapp", phone) == []


def test_malformed_json_with_a_valid_signature_is_acknowledged_as_rejected(live_stack):
    # Signed, so Meta sent it; anything but 2xx would only make Meta send it again (docs/channels.md).
    response = post_whatsapp(live_stack, b"{not json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_unknown_message_type_gets_a_polite_answer(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    location = {"type": "location", "location": {"latitude": -6.2, "longitude": 106.8}}
    post_whatsapp(live_stack, whatsapp_message(debtor.phone, location, wamid=f"wamid.L{next_id()}"))
    replies = wait_until(lambda: sent_to(graph_api, debtor.phone))
    assert "belum bisa membaca" in text_of(replies[-1])


def test_image_is_kept_as_payment_proof(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    image = {
        "type": "image",
        "image": {"id": "1479537139650973", "mime_type": "image/jpeg", "caption": "bukti tf", "sha256": "abc"},
    }
    post_whatsapp(live_stack, whatsapp_message(debtor.phone, image, wamid=f"wamid.I{next_id()}"))
    replies = wait_until(lambda: sent_to(graph_api, debtor.phone))
    assert "bukti pembayaran" in text_of(replies[-1])
    with live_stack.session_factory() as session:
        entry = session.scalar(
            select(AuditLog).where(AuditLog.action == "payment_proof.received").order_by(AuditLog.id.desc())
        )
        assert entry.details["attachments"][0]["media_id"] == "1479537139650973"


def test_delivery_statuses_are_stored_and_never_go_backwards(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    say(live_stack, debtor.phone, "halo")
    row = wait_until(lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.channel_message_id])[0]
    for status in ("delivered", "read", "delivered"):
        post_whatsapp(live_stack, whatsapp_status(debtor.phone, row.channel_message_id, status))
    wait_until(lambda: outbound(live_stack, "whatsapp", debtor.phone)[0].delivery_status == "read")


def test_outside_window_error_resends_the_template(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    say(live_stack, debtor.phone, "halo")
    row = wait_until(lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.channel_message_id])[0]
    error = {"code": 131047, "title": "Re-engagement message"}
    post_whatsapp(live_stack, whatsapp_status(debtor.phone, row.channel_message_id, "failed", error=error))
    templates = wait_until(lambda: [r for r in sent_to(graph_api, debtor.phone) if r.get("type") == "template"])
    assert templates[0]["template"]["name"] == "tagih_follow_up"


def test_user_stopped_marketing_records_an_opt_out(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    say(live_stack, debtor.phone, "halo")
    row = wait_until(lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.channel_message_id])[0]
    error = {"code": 131050, "title": "User stopped marketing messages"}
    post_whatsapp(live_stack, whatsapp_status(debtor.phone, row.channel_message_id, "failed", error=error))

    def opted_out():
        with live_stack.session_factory() as session:
            return session.scalar(
                select(func.count(ContactPreference.id)).where(
                    ContactPreference.address == debtor.phone, ContactPreference.kind == "opt_out"
                )
            )

    wait_until(opted_out)
    assert outbound(live_stack, "whatsapp", debtor.phone)[0].delivery_status == "failed"


def test_platform_5xx_then_success_is_retried(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    graph_api.fail_next(500, {"error": {"message": "Service temporarily unavailable", "code": 2}}, times=2)
    say(live_stack, debtor.phone, "halo")
    rows = wait_until(
        lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.delivery_status == "sent"]
    )
    assert rows[0].attempts == 3


def test_platform_429_is_retried(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    graph_api.fail_next(429, {"error": {"message": "Rate limit hit", "code": 130429}}, times=1)
    say(live_stack, debtor.phone, "halo")
    rows = wait_until(
        lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.delivery_status == "sent"]
    )
    assert rows[0].attempts == 2


def test_permanent_error_marks_the_message_failed_with_the_platform_error(live_stack, graph_api, new_debtor):
    debtor = new_debtor("id")
    graph_api.fail_next(400, {"error": {"message": "Receiver is incapable of receiving this message", "code": 131026}})
    say(live_stack, debtor.phone, "halo")
    rows = wait_until(
        lambda: [m for m in outbound(live_stack, "whatsapp", debtor.phone) if m.delivery_status == "failed"]
    )
    assert "131026" in rows[0].error and rows[0].attempts == 1


def test_messages_stored_before_a_crash_are_processed_at_the_next_start(live_stack, graph_api, new_debtor):
    """Simulate 'acknowledged, then the process died': a stored, unprocessed message and a queued reply
    are picked up by a freshly started app."""
    debtor = new_debtor("id")
    adapter = WhatsAppChannel(WhatsAppConfig.from_settings(live_stack.settings))
    body = whatsapp_message(debtor.phone, {"type": "text", "text": {"body": "halo"}}, wamid=f"wamid.C{next_id()}")
    store_delivery(live_stack.session_factory, adapter.parse(json.dumps(body).encode()), default_language="id")
    assert inbound(live_stack, "whatsapp", debtor.phone)[0].processed_at is None
    with AppServer(create_app(live_stack.settings, clock=fixed_clock), free_port()):
        wait_until(lambda: sent_to(graph_api, debtor.phone))
        wait_until(lambda: inbound(live_stack, "whatsapp", debtor.phone)[0].processed_at)
    with live_stack.session_factory() as session:
        count = session.scalar(select(func.count(Message.id)).where(Message.delivery_status == "queued"))
    assert count == 0
