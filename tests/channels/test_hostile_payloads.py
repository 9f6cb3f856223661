"""Hostile payloads on the adapters alone: ``parse`` raises nothing but ``PayloadError``, and what it
returns can be stored (text a database accepts, timestamps a datetime holds, ids that fit)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from channels.base import InboundMessage, ParsedDelivery, PayloadError, load_json
from channels.telegram import TelegramChannel, TelegramConfig
from channels.whatsapp import parse_payload
from tests.security._strategies import bodies
from tests.support import TELEGRAM_TOKEN, telegram_callback, telegram_update, whatsapp_message, whatsapp_status

PROPERTY = settings(
    max_examples=300,
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
PHONE = "+6281234567890"
WHATSAPP = st.sampled_from(
    [
        whatsapp_message(PHONE, {"type": "text", "text": {"body": "halo"}}, wamid="wamid.1"),
        whatsapp_message(PHONE, {"type": "button", "button": {"payload": "/affirm", "text": "Ya"}}, wamid="wamid.2"),
        whatsapp_message(
            PHONE,
            {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "/deny"}}},
            wamid="wamid.3",
        ),
        whatsapp_message(PHONE, {"type": "document", "document": {"id": "m", "filename": "a.pdf"}}, wamid="wamid.4"),
        whatsapp_status(PHONE, "wamid.5", "failed", error={"code": 131050, "title": "stopped"}),
    ]
)
TELEGRAM = st.sampled_from(
    [
        telegram_update(11, 777, text="halo"),
        telegram_callback(12, 777, "/affirm"),
        telegram_update(13, 777, contact={"phone_number": "+62812", "first_name": "A", "user_id": 777}),
        telegram_update(14, 777, document={"file_id": "d", "file_unique_id": "u", "mime_type": "application/pdf"}),
    ]
)


@pytest.fixture(scope="module")
def telegram() -> TelegramChannel:
    # parse needs no network: the Bot is only handed to de_json.
    return TelegramChannel(
        TelegramConfig(SecretStr(TELEGRAM_TOKEN), SecretStr("s3cret"), api_base_url="http://127.0.0.1:9")
    )


def assert_storable(delivery: ParsedDelivery) -> None:
    for message in delivery.messages:
        assert isinstance(message, InboundMessage)
        assert 0 < len(message.sender_id) <= 128 and 0 < len(message.message_id) <= 255
        assert message.timestamp.tzinfo is not None
        for text in (message.text, message.sender_name, message.contact_phone, message.start_token):
            assert text is None or isinstance(text, str)
            if text is not None:
                text.encode("utf-8")  # raises for lone surrogates
                assert "\x00" not in text
        json.dumps(dict(message.raw))  # the raw payload goes into a JSON column


@PROPERTY
@given(body=bodies(WHATSAPP))
def test_whatsapp_parse_raises_only_payload_errors_and_returns_what_can_be_stored(body):
    try:
        delivery = parse_payload(body)
    except PayloadError:
        return
    assert_storable(delivery)
    assert all(isinstance(reason, str) and reason for reason in delivery.rejected)


@PROPERTY
@given(body=bodies(TELEGRAM))
def test_telegram_parse_raises_only_payload_errors_and_returns_what_can_be_stored(telegram, body):
    try:
        delivery = telegram.parse(body)
    except PayloadError:
        return
    assert_storable(delivery)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 33 + b"]" * 33, "nested deeper than 32 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels"),
        (b'{"a": "\\ud800"}', "text at $.a contains a lone surrogate"),
        (b'{"a": ["x", "\\udc00"]}', "text at $.a[1] contains a lone surrogate"),
        (b'{"\\ud800": 1}', "a key at $ contains a lone surrogate"),
        (b'{"a": "\xed\xa0\x80"}', "lone surrogate"),
        (b'{"a": "x\\u0000"}', "text at $.a contains a NUL character"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e400}', "number at $.a is out of range"),
        (b"9" * 5000, "not valid JSON"),
        (b"\xff", "not valid JSON"),
    ],
)
def test_load_json_refuses_what_would_fail_later_with_where_it_is(body, reason):
    with pytest.raises(PayloadError) as caught:
        load_json(body)
    assert reason in str(caught.value)


def test_load_json_accepts_what_is_fine():
    body = b'{"a": [1, 2.5, "\\u00e9", "\xf0\x9f\x98\x80", null, true], "b": ' + b"[" * 31 + b"]" * 31 + b"}"
    deepest: list[Any] = []
    for _ in range(30):
        deepest = [deepest]
    assert load_json(body) == {"a": [1, 2.5, "\u00e9", "\U0001f600", None, True], "b": deepest}


def test_whatsapp_timestamps_out_of_range_reject_the_message_not_the_delivery():
    delivery = whatsapp_message(PHONE, {"type": "text", "text": {"body": "halo"}}, wamid="wamid.ok")
    messages = delivery["entry"][0]["changes"][0]["value"]["messages"]
    messages.append({**messages[0], "id": "wamid.late", "timestamp": "99999999999999"})
    messages.append({**messages[0], "id": "wamid.float", "timestamp": 1e20})
    parsed = parse_payload(json.dumps(delivery).encode())
    assert [m.message_id for m in parsed.messages] == ["wamid.ok"]
    assert parsed.rejected == (
        "message 'wamid.late': timestamp is not a number of seconds",
        "message 'wamid.float': timestamp is not a number of seconds",
    )


def test_telegram_1e20_date_and_junk_types_are_payload_errors(telegram):
    for update in (
        telegram_update(20, 777, text="halo", date=1e20),
        {**telegram_update(21, 777), "message": {**telegram_update(21, 777)["message"], "text": 12}},
        {"update_id": 22, "message": "halo"},
        {"update_id": 23, "callback_query": {"id": "c", "data": "/affirm"}},
    ):
        with pytest.raises(PayloadError):
            telegram.parse(json.dumps(update).encode())
