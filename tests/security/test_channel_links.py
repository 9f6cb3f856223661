"""Finding 3: a Telegram deep link is signed with a secret that has no fixed default, expires, works
once, and never silently moves a debtor's link to another chat (or a chat to another debtor). Through
the real app, Rasa and a fake Bot API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, Debtor, LinkRequest
from bot.services.linking import make_link_token
from tests.messaging.conftest import next_id, post_telegram
from tests.messaging.test_telegram_round_trip import sent_to
from tests.support import FIXED_NOW, telegram_callback, telegram_update, wait_until

pytestmark = pytest.mark.rasa


def token_for(stack, phone: str, *, secret: str = "test-secret-key", ttl: timedelta = timedelta(hours=72)) -> str:
    with stack.session_factory() as session:
        debtor_id = session.scalar(select(Debtor.id).where(Debtor.phone == phone))
    return make_link_token(secret, debtor_id, now=FIXED_NOW, ttl=ttl)


def chat_of(stack, phone: str) -> str | None:
    with stack.session_factory() as session:
        return session.scalar(select(Debtor.telegram_chat_id).where(Debtor.phone == phone))


def start(stack, chat: int, token: str) -> None:
    assert post_telegram(stack, telegram_update(next_id(), chat, text=f"/start {token}")).status_code == 200


def said(bot_api, chat: int, fragment: str) -> bool:
    return any(fragment in (r.get("text") or "") for r in sent_to(bot_api, chat))


def test_a_deep_link_works_once(live_stack, bot_api, new_debtor):
    debtor = new_debtor()
    token = token_for(live_stack, debtor.phone)
    owner, stranger = next_id(), next_id()
    start(live_stack, owner, token)
    wait_until(lambda: said(bot_api, owner, "terhubung"))
    start(live_stack, stranger, token)  # the same link, forwarded or copied
    wait_until(lambda: said(bot_api, stranger, "tidak berlaku"))
    assert chat_of(live_stack, debtor.phone) == str(owner)


def test_expired_and_forged_links_are_refused(live_stack, bot_api, new_debtor):
    debtor = new_debtor()
    expired = token_for(live_stack, debtor.phone, ttl=timedelta(hours=-1))
    signed_with_the_old_default = token_for(live_stack, debtor.phone, secret="dev-secret")
    for token in (expired, signed_with_the_old_default):
        chat = next_id()
        start(live_stack, chat, token)
        wait_until(lambda chat=chat: said(bot_api, chat, "tidak berlaku"))
    assert chat_of(live_stack, debtor.phone) is None


def _linked_debtor(stack, bot_api, new_debtor) -> tuple[object, int]:
    debtor = new_debtor()
    owner = next_id()
    start(stack, owner, token_for(stack, debtor.phone))
    wait_until(lambda: said(bot_api, owner, "terhubung"))
    return debtor, owner


def _request(stack, debtor) -> LinkRequest:
    with stack.session_factory() as session:
        return session.scalar(
            select(LinkRequest).join(Debtor, LinkRequest.debtor_id == Debtor.id).where(Debtor.phone == debtor.phone)
        )


def test_a_new_chat_never_silently_replaces_the_linked_one(live_stack, bot_api, new_debtor):
    debtor, owner = _linked_debtor(live_stack, bot_api, new_debtor)
    newcomer = next_id()
    start(live_stack, newcomer, token_for(live_stack, debtor.phone, ttl=timedelta(hours=48)))  # a fresh link
    wait_until(lambda: said(bot_api, newcomer, "konfirmasi"))
    assert chat_of(live_stack, debtor.phone) == str(owner)  # nothing changed
    # the debtor is asked in the chat on file, with buttons to decide
    asked = wait_until(
        lambda: [r for r in sent_to(bot_api, owner) if "reply_markup" in r and "Telegram lain" in r["text"]]
    )
    buttons = [b for row in asked[-1]["reply_markup"]["inline_keyboard"] for b in row]
    request = _request(live_stack, debtor)
    assert request.status == "pending" and request.previous_address == str(owner)
    assert {b["callback_data"] for b in buttons} == {f"link:approve:{request.id}", f"link:reject:{request.id}"}
    # the newcomer learns nothing about the debt meanwhile
    post_telegram(live_stack, telegram_update(next_id(), newcomer, text="berapa tagihan saya?"))
    wait_until(lambda: said(bot_api, newcomer, "nomor kontrak"))
    assert not said(bot_api, newcomer, "Rp")
    # the debtor refuses from the chat on file
    post_telegram(live_stack, telegram_callback(next_id(), owner, f"link:reject:{request.id}"))
    wait_until(lambda: _request(live_stack, debtor).status == "rejected")
    wait_until(lambda: said(bot_api, newcomer, "kami tolak"))
    assert chat_of(live_stack, debtor.phone) == str(owner)


def test_the_debtor_can_approve_the_new_chat_from_the_old_one(live_stack, bot_api, new_debtor):
    debtor, owner = _linked_debtor(live_stack, bot_api, new_debtor)
    newcomer = next_id()
    start(live_stack, newcomer, token_for(live_stack, debtor.phone, ttl=timedelta(hours=48)))
    wait_until(lambda: _request(live_stack, debtor) is not None)
    request = _request(live_stack, debtor)
    # someone else cannot decide it, even with the right button data
    post_telegram(live_stack, telegram_callback(next_id(), newcomer, f"link:approve:{request.id}"))
    post_telegram(live_stack, telegram_callback(next_id(), owner, f"link:approve:{request.id}"))
    wait_until(lambda: chat_of(live_stack, debtor.phone) == str(newcomer))
    wait_until(lambda: said(bot_api, newcomer, "terhubung"))
    with live_stack.session_factory() as session:
        decided = session.get(LinkRequest, request.id)
        assert decided.status == "approved" and decided.decided_by == f"debtor:telegram:{owner}"
        assert session.scalar(
            select(AuditLog).where(
                AuditLog.action == "identity.link_approved", AuditLog.entity_id == str(decided.debtor_id)
            )
        )


def test_a_chat_linked_to_one_debtor_is_not_moved_to_another(live_stack, bot_api, new_debtor):
    first, chat = _linked_debtor(live_stack, bot_api, new_debtor)
    second = new_debtor()
    contact = {"phone_number": second.phone.lstrip("+"), "first_name": "Debitur", "user_id": chat}
    post_telegram(live_stack, telegram_update(next_id(), chat, contact=contact))
    wait_until(lambda: _request(live_stack, second) is not None)
    assert chat_of(live_stack, first.phone) == str(chat) and chat_of(live_stack, second.phone) is None
