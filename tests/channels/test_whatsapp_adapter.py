"""The WhatsApp adapter on its own: documented webhook payloads in, Graph API requests out."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from channels.base import (
    Button,
    OutboundMessage,
    OutsideWindowError,
    PayloadError,
    PermanentSendError,
    RateLimitedError,
    RecipientOptedOutError,
    TemplateMessage,
    TransientSendError,
    VerificationError,
)
from channels.whatsapp import WhatsAppChannel, WhatsAppConfig, parse_payload, signature, verify_signature
from tests.support import WHATSAPP_PHONE_NUMBER_ID, whatsapp_message, whatsapp_status

SECRET = "app-secret"
PHONE = "+6281234567890"


def parse_one(body: dict):
    delivery = parse_payload(json.dumps(body).encode())
    assert len(delivery.messages) == 1
    return delivery.messages[0]


def test_text_message_is_normalised():
    message = parse_one(whatsapp_message(PHONE, {"type": "text", "text": {"body": "sy sdh bayar"}}, wamid="wamid.1"))
    assert (message.kind, message.text, message.sender_id, message.message_id) == (
        "text",
        "sy sdh bayar",
        PHONE,
        "wamid.1",
    )
    assert message.sender_name == "Debtor" and message.timestamp.year == 2026


@pytest.mark.parametrize(
    "body",
    [
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Ya"}},
        },
        {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "/affirm", "title": "Ya"}}},
        {"type": "button", "button": {"payload": "/affirm", "text": "Ya"}},
    ],
    ids=["button_reply", "list_reply", "template_quick_reply"],
)
def test_button_presses_reach_the_dialogue_as_their_payload(body):
    message = parse_one(whatsapp_message(PHONE, body, wamid="wamid.2"))
    assert message.kind == "button" and message.text == "/affirm"


def test_image_and_document_become_attachments():
    image = parse_one(
        whatsapp_message(
            PHONE,
            {"type": "image", "image": {"id": "media-1", "mime_type": "image/jpeg", "caption": "bukti tf"}},
            wamid="wamid.3",
        )
    )
    assert image.kind == "media" and image.attachments[0].media_id == "media-1" and image.text == "bukti tf"
    document = parse_one(
        whatsapp_message(
            PHONE,
            {
                "type": "document",
                "document": {"id": "media-2", "mime_type": "application/pdf", "filename": "bukti.pdf"},
            },
            wamid="wamid.4",
        )
    )
    assert document.attachments[0].kind == "document" and document.attachments[0].filename == "bukti.pdf"


def test_other_types_are_kept_as_unsupported():
    location = {"type": "location", "location": {"latitude": -6.2, "longitude": 106.8}}
    assert parse_one(whatsapp_message(PHONE, location, wamid="wamid.5")).kind == "unsupported"


def test_failed_status_carries_the_platform_error():
    body = whatsapp_status(PHONE, "wamid.6", "failed", error={"code": 131047, "title": "Re-engagement message"})
    (status,) = parse_payload(json.dumps(body).encode()).statuses
    assert (status.status, status.error_code, status.error_title) == ("failed", "131047", "Re-engagement message")


def test_unknown_status_values_are_ignored():
    body = whatsapp_status(PHONE, "wamid.7", "deleted")
    assert parse_payload(json.dumps(body).encode()).statuses == ()


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"object": "page"}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [1]}]}',
    ],
)
def test_malformed_payloads_are_refused(raw):
    with pytest.raises(PayloadError):
        parse_payload(raw)


def test_signature_is_checked_in_full():
    body = b'{"object": "whatsapp_business_account"}'
    verify_signature({"X-Hub-Signature-256": signature(body, SECRET)}, body, SECRET)
    verify_signature({"x-hub-signature-256": signature(body, SECRET)}, body, SECRET)  # header case does not matter
    for headers in (
        {},
        {"X-Hub-Signature-256": "md5=abc"},
        {"X-Hub-Signature-256": signature(body, "other secret")},
        {"X-Hub-Signature-256": signature(body + b" ", SECRET)},
    ):
        with pytest.raises(VerificationError):
            verify_signature(headers, body, SECRET)


@pytest.fixture
def channel(graph_api):
    config = WhatsAppConfig(
        access_token=SecretStr("token"),
        app_secret=SecretStr(SECRET),
        verify_token=SecretStr("verify"),
        phone_number_id=WHATSAPP_PHONE_NUMBER_ID,
        api_base_url=graph_api.base_url,
    )
    return WhatsAppChannel(config, client=httpx.AsyncClient(timeout=5))


def test_subscription_challenge(channel):
    assert channel.verify_subscription("subscribe", "verify", "12345") == "12345"
    for mode, token, challenge in (
        ("subscribe", "wrong", "1"),
        ("unsubscribe", "verify", "1"),
        ("subscribe", "verify", None),
    ):
        with pytest.raises(VerificationError):
            channel.verify_subscription(mode, token, challenge)


async def sent_body(channel, graph_api, message: OutboundMessage) -> dict:
    before = len(graph_api.requests)
    result = await channel.send(message)
    assert result.platform_message_id.startswith("wamid.")
    request = graph_api.requests[before]
    assert request["headers"]["authorization"] == "Bearer token"
    assert request["path"].endswith(f"/{WHATSAPP_PHONE_NUMBER_ID}/messages")
    return request["json"]


def buttons(n: int) -> tuple[Button, ...]:
    return tuple(Button(f"Pilihan {i}", f'/choice{{"n": {i}}}') for i in range(1, n + 1))


async def test_up_to_three_buttons_are_reply_buttons(channel, graph_api):
    body = await sent_body(channel, graph_api, OutboundMessage("whatsapp", PHONE, text="Pilih", buttons=buttons(3)))
    assert body["to"] == PHONE.lstrip("+") and body["interactive"]["type"] == "button"
    assert [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]] == [b.payload for b in buttons(3)]


async def test_four_to_ten_buttons_are_a_list(channel, graph_api):
    body = await sent_body(channel, graph_api, OutboundMessage("whatsapp", PHONE, text="Pilih", buttons=buttons(10)))
    rows = body["interactive"]["action"]["sections"][0]["rows"]
    assert body["interactive"]["type"] == "list" and len(rows) == 10 and rows[3]["id"] == buttons(10)[3].payload


async def test_more_than_ten_buttons_fall_back_to_numbered_text(channel, graph_api):
    body = await sent_body(channel, graph_api, OutboundMessage("whatsapp", PHONE, text="Pilih", buttons=buttons(11)))
    assert body["type"] == "text" and "11. Pilihan 11" in body["text"]["body"]


async def test_template_carries_name_language_and_parameters(channel, graph_api):
    template = TemplateMessage("tagih_follow_up", "id", ("Tagih Finance",))
    body = await sent_body(channel, graph_api, OutboundMessage("whatsapp", PHONE, template=template))
    assert body["template"]["name"] == "tagih_follow_up" and body["template"]["language"] == {"code": "id"}
    assert body["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Tagih Finance"}]


def graph_error(code: int, message: str) -> dict:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Az8or2yhqkZfEZ"}}


@pytest.mark.parametrize(
    ("status", "error", "headers", "expected"),
    [
        (500, graph_error(131000, "Something went wrong"), None, TransientSendError),
        (429, graph_error(130429, "Rate limit hit"), {"Retry-After": "2"}, RateLimitedError),
        (400, graph_error(131047, "Re-engagement message"), None, OutsideWindowError),
        (400, graph_error(131050, "User stopped marketing messages"), None, RecipientOptedOutError),
        (400, graph_error(131026, "Message undeliverable"), None, PermanentSendError),
    ],
)
async def test_platform_errors_are_classified(channel, graph_api, status, error, headers, expected):
    graph_api.fail_next(status, error, headers)
    with pytest.raises(expected) as caught:
        await channel.send(OutboundMessage("whatsapp", PHONE, text="Halo"))
    assert type(caught.value) is expected
    assert caught.value.code == str(error["error"]["code"]) and caught.value.title == error["error"]["message"]
    if expected is RateLimitedError:
        assert caught.value.retry_after == 2.0


async def test_unreachable_api_is_transient():
    config = WhatsAppConfig(SecretStr("t"), SecretStr("s"), SecretStr("v"), "1", api_base_url="http://127.0.0.1:9")
    with pytest.raises(TransientSendError):
        await WhatsAppChannel(config).send(OutboundMessage("whatsapp", PHONE, text="Halo"))
