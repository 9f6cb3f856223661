"""The Telegram adapter on its own, against the local fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import SecretStr

from channels.base import (
    Button,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RateLimitedError,
    RecipientOptedOutError,
    TemplateMessage,
    TransientSendError,
    VerificationError,
)
from channels.telegram import TelegramChannel, TelegramConfig
from tests.support import TELEGRAM_TOKEN, telegram_callback, telegram_update

CHAT = 777001


@pytest.fixture
async def channel(bot_api):
    adapter = TelegramChannel(
        TelegramConfig(SecretStr(TELEGRAM_TOKEN), SecretStr("s3cret"), api_base_url=bot_api.base_url, timeout=5)
    )
    yield adapter
    await adapter.aclose()


def parse_one(channel, update: dict):
    (message,) = channel.parse(json.dumps(update).encode()).messages
    return message


def test_text_message(channel):
    message = parse_one(channel, telegram_update(10, CHAT, text="kapan jatuh tempo?"))
    assert (message.kind, message.text, message.sender_id, message.message_id) == (
        "text",
        "kapan jatuh tempo?",
        str(CHAT),
        "10",
    )


def test_start_with_and_without_token(channel):
    assert parse_one(channel, telegram_update(11, CHAT, text="/start 1_2_abc")).start_token == "1_2_abc"
    bare = parse_one(channel, telegram_update(12, CHAT, text="/start"))
    assert bare.kind == "start" and bare.start_token is None


def test_callback_query_carries_payload_and_id(channel):
    message = parse_one(channel, telegram_callback(13, CHAT, "/ask_balance"))
    assert (message.kind, message.text, message.callback_id, message.sender_id) == (
        "button",
        "/ask_balance",
        "cb13",
        str(CHAT),
    )


def test_own_contact_links_but_someone_elses_does_not(channel):
    own = {"phone_number": "62 812-3456-7890", "first_name": "Debitur", "user_id": CHAT}
    message = parse_one(channel, telegram_update(14, CHAT, contact=own))
    assert message.kind == "contact" and message.contact_phone == "+6281234567890"
    other = {**own, "user_id": CHAT + 1}
    assert parse_one(channel, telegram_update(15, CHAT, contact=other)).kind == "unsupported"


def test_photo_and_document_become_attachments(channel):
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800},
    ]
    image = parse_one(channel, telegram_update(16, CHAT, photo=photo, caption="bukti"))
    assert image.kind == "media" and image.attachments[0].media_id == "large" and image.text == "bukti"
    document = {"file_id": "doc", "file_unique_id": "d", "file_name": "bukti.pdf", "mime_type": "application/pdf"}
    file = parse_one(channel, telegram_update(17, CHAT, document=document))
    assert file.attachments[0].filename == "bukti.pdf"


def test_sticker_is_unsupported(channel):
    sticker = {
        "file_id": "st",
        "file_unique_id": "st",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    assert parse_one(channel, telegram_update(18, CHAT, sticker=sticker)).kind == "unsupported"


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"update_id": "x"}', b'{"update_id": 5, "message": {"chat": 1}}'])
def test_malformed_updates_are_refused(channel, raw):
    with pytest.raises(PayloadError):
        channel.parse(raw)


def test_secret_token_header(channel):
    channel.verify({"X-Telegram-Bot-Api-Secret-Token": "s3cret"}, b"{}")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        with pytest.raises(VerificationError):
            channel.verify(headers, b"{}")


def test_without_a_configured_secret_nothing_is_trusted(bot_api):
    adapter = TelegramChannel(TelegramConfig(SecretStr(TELEGRAM_TOKEN), None, api_base_url=bot_api.base_url))
    with pytest.raises(VerificationError):
        adapter.verify({"X-Telegram-Bot-Api-Secret-Token": ""}, b"{}")


def calls(bot_api, method: str) -> list[dict]:
    return [c["params"] for c in bot_api.calls if c["method"] == method]


async def test_buttons_become_an_inline_keyboard(channel, bot_api):
    chat = CHAT + 100
    message = OutboundMessage(
        "telegram", str(chat), text="Pilih", buttons=(Button("Ya", "/affirm"), Button("Tidak", "/deny"))
    )
    result = await channel.send(message)
    sent = [p for p in calls(bot_api, "sendMessage") if int(p["chat_id"]) == chat][-1]
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert result.platform_message_id.isdigit() and sent["text"] == "Pilih"
    assert [row[0]["callback_data"] for row in keyboard] == ["/affirm", "/deny"]


async def test_over_long_button_payload_is_refused_before_sending(channel):
    with pytest.raises(PermanentSendError):
        await channel.send(OutboundMessage("telegram", str(CHAT), text="x", buttons=(Button("Ya", "/x" + "a" * 80),)))


async def test_templates_are_whatsapp_only(channel):
    with pytest.raises(PermanentSendError):
        await channel.send(OutboundMessage("telegram", str(CHAT), template=TemplateMessage("t", "id")))


@pytest.mark.parametrize(
    ("status", "description", "parameters", "expected"),
    [
        (429, "Too Many Requests: retry after 3", {"retry_after": 3}, RateLimitedError),
        (403, "Forbidden: bot was blocked by the user", None, RecipientOptedOutError),
        (400, "Bad Request: chat not found", None, PermanentSendError),
        (502, "Bad Gateway", None, TransientSendError),
    ],
)
async def test_platform_errors_are_classified(channel, bot_api, status, description, parameters, expected):
    bot_api.fail_next("sendMessage", status, description, status, parameters)
    with pytest.raises(expected) as caught:
        await channel.send(OutboundMessage("telegram", str(CHAT), text="Halo"))
    if expected is RateLimitedError:
        assert caught.value.retry_after == 3


async def test_answer_callback_and_webhook_registration(channel, bot_api):
    await channel.answer_callback("cb-42")
    await channel.set_webhook("https://tagih.example/webhooks/telegram")
    assert any(p.get("callback_query_id") == "cb-42" for p in calls(bot_api, "answerCallbackQuery"))
    registered = calls(bot_api, "setWebhook")[-1]
    assert registered["url"] == "https://tagih.example/webhooks/telegram" and registered["secret_token"] == "s3cret"


async def test_polling_hands_over_each_update_once(channel, bot_api):
    bot_api.queue_update(telegram_update(900001, CHAT, text="halo"))
    bot_api.queue_update(telegram_update(900002, CHAT, text="lagi"))
    seen: list[dict] = []
    stop = asyncio.Event()

    async def handle(body: bytes) -> None:
        seen.append(json.loads(body))
        if len(seen) == 2:
            stop.set()

    await asyncio.wait_for(channel.poll(handle, stop=stop, timeout=0), 10)
    assert [u["update_id"] for u in seen] == [900001, 900002]
    assert seen[0]["message"]["text"] == "halo"
