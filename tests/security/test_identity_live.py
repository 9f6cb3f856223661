"""Findings 1 and 6 end to end: through the web chat and Telegram webhooks, the real Rasa model and the
fake WhatsApp API. Dates of birth and codes reach neither database; guessing gets nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import Conversation, IdentityAttempt, Message
from tests.messaging.conftest import next_id, post_telegram
from tests.messaging.test_telegram_round_trip import sent_to
from tests.support import TEST_RASA_TOKEN, telegram_update, wait_until

pytestmark = pytest.mark.rasa


def spelled(birth: str) -> str:
    """The debtor's date of birth as a person types it ("3 Februari 1991"), which appears nowhere else."""
    months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September"]
    born = date.fromisoformat(birth)
    return f"{born.day} {months[born.month - 1]} {born.year}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def tracker_texts(stack, rasa_sender: str) -> str:
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{rasa_sender}/tracker", params={"token": TEST_RASA_TOKEN}, timeout=30
    ).json()
    return "\n".join(str(e.get("text") or "") + str(e.get("parse_data") or "") for e in tracker["events"])


def stored_texts(stack, conversation_id: int) -> str:
    with stack.session_factory() as session:
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation_id))
        return "\n".join(f"{m.text} {m.payload}" for m in rows)


def conversation(stack, channel: str, sender_id: str) -> Conversation:
    with stack.session_factory() as session:
        return session.scalar(
            select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
        )


def codes_sent_to(stack, phone: str) -> int:
    name = stack.settings.whatsapp_code_template_name
    return sum(
        1
        for r in stack.graph_api.requests
        if r["json"].get("to") == phone.lstrip("+") and (r["json"].get("template") or {}).get("name") == name
    )


def test_guessing_across_conversations_and_addresses_gets_nothing(live_stack, new_debtor, sender):
    """The reported attack: wrong dates over many made-up sender ids and addresses, then the right one."""
    debtor = new_debtor()
    replies = []
    for n in range(15):
        who, address = f"{sender}-{n}", f"127.0.0.{31 + n % 5}"
        live_stack.say(who, "cek tagihan saya", address=address)
        live_stack.say(who, debtor.ref, address=address)
        replies.append(texts(live_stack.say(who, f"{n + 1:02d}-01-1970", address=address)))
    last = f"{sender}-right"
    live_stack.say(last, "cek tagihan saya", address="127.0.0.36")
    live_stack.say(last, debtor.ref, address="127.0.0.36")
    final = texts(live_stack.say(last, debtor.birth, address="127.0.0.36"))
    assert "Rp" not in final and all("Rp" not in reply for reply in replies)
    assert "coba lagi setelah" in final  # slowed down: the right date is not even looked at
    assert not conversation(live_stack, "web", last).verified
    assert codes_sent_to(live_stack, debtor.phone) == 0
    with live_stack.session_factory() as session:
        outcomes = list(
            session.scalars(
                select(IdentityAttempt.outcome).where(IdentityAttempt.ref_key == debtor.ref.replace("-", ""))
            )
        )
    assert outcomes.count("mismatch") == 3 and outcomes[-1] == "throttled"


def test_a_verified_web_chat_keeps_no_date_of_birth_or_code(live_stack, new_debtor, sender):
    debtor = new_debtor()
    live_stack.say(sender, "berapa tagihan saya?", address="127.0.0.41")
    typed = spelled(debtor.birth)
    replies = live_stack.identify(sender, debtor.ref, f"tgl lahir sy {typed}", address="127.0.0.41")
    assert "Rp1.750.000" in texts(replies)
    code = live_stack.sent_code(debtor.phone)
    web = conversation(live_stack, "web", sender)
    assert web.verified
    for where in (stored_texts(live_stack, web.id), tracker_texts(live_stack, web.rasa_sender_id)):
        assert typed not in where and code not in where and "1991" not in where
    # nor anywhere in either database file (Rasa's tracker store is a SQLite file in the test stack)
    for database in (
        Path(live_stack.settings.database_url.removeprefix("sqlite:///")),
        live_stack.settings.rasa_tracker_db,
    ):
        raw = database.read_bytes()
        assert typed.encode() not in raw and f"kode {code}".encode() not in raw


def test_an_unknown_telegram_chat_is_checked_the_same_way(live_stack, bot_api, new_debtor):
    debtor = new_debtor()
    chat = next_id()
    post_telegram(live_stack, telegram_update(next_id(), chat, text="tagihan saya berapa?"))
    wait_until(lambda: any("nomor kontrak" in r["text"] for r in sent_to(bot_api, chat)))
    post_telegram(live_stack, telegram_update(next_id(), chat, text=debtor.ref))
    wait_until(lambda: any("tanggal lahir" in r["text"] for r in sent_to(bot_api, chat)))
    before = len(live_stack.graph_api.requests)
    post_telegram(live_stack, telegram_update(next_id(), chat, text=spelled(debtor.birth)))
    wait_until(lambda: any("kode verifikasi" in r["text"] for r in sent_to(bot_api, chat)))
    code = live_stack.sent_code(debtor.phone, after=before)
    post_telegram(live_stack, telegram_update(next_id(), chat, text=code))
    wait_until(lambda: any("Rp1.750.000" in r["text"] for r in sent_to(bot_api, chat)))
    telegram = conversation(live_stack, "telegram", str(chat))
    stored = stored_texts(live_stack, telegram.id)
    assert spelled(debtor.birth) not in stored and code not in stored
    assert "[tanggal lahir disamarkan" in stored and "withheld" in stored
    assert spelled(debtor.birth) not in tracker_texts(live_stack, telegram.rasa_sender_id)


def test_a_date_of_birth_typed_out_of_turn_is_masked(live_stack, sender):
    live_stack.say(sender, "halo, sy lahir 3 Februari 1961 mau tanya tagihan", address="127.0.0.42")
    web = conversation(live_stack, "web", sender)
    assert "1961" not in stored_texts(live_stack, web.id)
    assert "1961" not in tracker_texts(live_stack, web.rasa_sender_id)
