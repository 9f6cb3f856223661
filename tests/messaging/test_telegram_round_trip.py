"""Telegram end to end: webhook in (secret token) -> stored -> Rasa -> reply out to a fake Bot API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import ContactPreference, Debtor
from bot.services.linking import make_link_token
from bot.web.app import create_app
from tests.messaging.conftest import inbound, next_id, outbound, post_telegram
from tests.support import FIXED_NOW, AppServer, fixed_clock, free_port, telegram_callback, telegram_update, wait_until

pytestmark = pytest.mark.rasa


def sent_to(bot_api, chat_id: int, method: str = "sendMessage") -> list[dict]:
    return [
        c["params"] for c in bot_api.calls if c["method"] == method and str(c["params"].get("chat_id")) == str(chat_id)
    ]


def link_token(stack, ref_phone: str) -> str:
    with stack.session_factory() as session:
        debtor = session.scalar(select(Debtor).where(Debtor.phone == ref_phone))
        return make_link_token("test-secret-key", debtor.id, now=FIXED_NOW, ttl=timedelta(hours=72))


def test_wrong_or_missing_secret_token_is_refused_and_nothing_stored(live_stack):
    chat = next_id()
    assert post_telegram(live_stack, telegram_update(next_id(), chat, text="halo"), secret="wrong").status_code == 403
    assert post_telegram(live_stack, telegram_update(next_id(), chat, text="halo"), secret=None).status_code == 403
    assert inbound(live_stack, "telegram", str(chat)) == []


def test_malformed_update_is_acknowledged_as_rejected(live_stack):
    # The secret proves Telegram sent it; anything but 2xx would only make Telegram send it again.
    response = post_telegram(live_stack, b"[1, 2")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_unlinked_chat_gets_the_identity_check(live_stack, bot_api):
    chat = next_id()
    post_telegram(live_stack, telegram_update(next_id(), chat, text="tagihan saya berapa?"))
    replies = wait_until(lambda: sent_to(bot_api, chat))
    assert "nomor kontrak" in replies[-1]["text"] and "Rp" not in replies[-1]["text"]


def test_deep_link_links_the_chat_then_the_debtor_is_answered(live_stack, bot_api, new_debtor):
    debtor = new_debtor("id")
    chat = next_id()
    token = link_token(live_stack, debtor.phone)
    post_telegram(live_stack, telegram_update(next_id(), chat, text=f"/start {token}"))
    replies = wait_until(lambda: sent_to(bot_api, chat))
    assert "terhubung" in replies[0]["text"]
    # the greeting that follows carries an inline keyboard
    wait_until(lambda: any("reply_markup" in r for r in sent_to(bot_api, chat)))
    post_telegram(live_stack, telegram_update(next_id(), chat, text="berapa tagihan saya?"))
    wait_until(lambda: any("Rp1.750.000" in r["text"] for r in sent_to(bot_api, chat)))
    with live_stack.session_factory() as session:
        assert session.scalar(select(Debtor.telegram_chat_id).where(Debtor.phone == debtor.phone)) == str(chat)


def test_forged_deep_link_is_refused(live_stack, bot_api):
    chat = next_id()
    post_telegram(live_stack, telegram_update(next_id(), chat, text="/start 1_9999999999_000000000000000000000000"))
    replies = wait_until(lambda: sent_to(bot_api, chat))
    assert "tidak berlaku" in replies[0]["text"]


def test_sharing_own_contact_links_the_chat(live_stack, bot_api, new_debtor):
    debtor = new_debtor("en")
    chat = next_id()
    contact = {"phone_number": debtor.phone.lstrip("+"), "first_name": "Debitur", "user_id": chat}
    post_telegram(live_stack, telegram_update(next_id(), chat, contact=contact))
    wait_until(lambda: any("linked" in r["text"] for r in sent_to(bot_api, chat)))


def test_button_press_is_answered_and_reaches_the_dialogue(live_stack, bot_api, new_debtor):
    debtor = new_debtor("id")
    chat = next_id()
    post_telegram(live_stack, telegram_update(next_id(), chat, text=f"/start {link_token(live_stack, debtor.phone)}"))
    wait_until(lambda: len(sent_to(bot_api, chat)) >= 2)
    update = telegram_callback(next_id(), chat, "/ask_balance")
    post_telegram(live_stack, update)
    wait_until(lambda: any("Rp1.750.000" in r["text"] for r in sent_to(bot_api, chat)))
    answered = [c for c in bot_api.calls if c["method"] == "answerCallbackQuery"]
    assert any(c["params"].get("callback_query_id") == f"cb{update['update_id']}" for c in answered)


def test_duplicate_update_is_processed_once(live_stack, bot_api):
    chat = next_id()
    update = telegram_update(next_id(), chat, text="halo")
    assert post_telegram(live_stack, update).json()["accepted"] == 1
    assert post_telegram(live_stack, update).json()["duplicates"] == 1
    wait_until(lambda: sent_to(bot_api, chat))
    wait_until(lambda: all(m.processed_at for m in inbound(live_stack, "telegram", str(chat))))
    assert len(sent_to(bot_api, chat)) == 1


def test_blocked_bot_records_an_opt_out(live_stack, bot_api):
    chat = next_id()
    bot_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", 403)
    post_telegram(live_stack, telegram_update(next_id(), chat, text="halo"))
    rows = wait_until(lambda: [m for m in outbound(live_stack, "telegram", str(chat)) if m.delivery_status == "failed"])
    assert rows[0].error

    def opted_out():
        with live_stack.session_factory() as session:
            return session.scalar(select(ContactPreference).where(ContactPreference.address == str(chat)))

    assert wait_until(opted_out).kind == "opt_out"


def test_rate_limited_send_is_retried(live_stack, bot_api):
    chat = next_id()
    bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", 429, parameters={"retry_after": 1})
    post_telegram(live_stack, telegram_update(next_id(), chat, text="halo"))
    rows = wait_until(lambda: [m for m in outbound(live_stack, "telegram", str(chat)) if m.delivery_status == "sent"])
    assert rows[0].attempts == 2


def test_polling_mode_receives_updates_without_a_webhook(live_stack, bot_api, new_debtor):
    """Local development: the app long-polls getUpdates instead of receiving webhooks."""
    debtor = new_debtor("en")
    chat = next_id()
    with AppServer(create_app(live_stack.settings, clock=fixed_clock, telegram_polling=True), free_port()):
        bot_api.queue_update(telegram_update(next_id(), chat, text=f"/start {link_token(live_stack, debtor.phone)}"))
        wait_until(lambda: any("linked" in r["text"] for r in sent_to(bot_api, chat)))
    (message,) = inbound(live_stack, "telegram", str(chat))
    assert message.processed_at is not None
