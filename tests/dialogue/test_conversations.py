"""Whole conversations through the web chat webhook, a real Rasa server and the real model.

Each test checks what the debtor reads and what landed in the database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.db.models import (
    Account,
    ContactPreference,
    Conversation,
    Handoff,
    InstallmentPlan,
    Message,
    PaymentClaim,
    Promise,
)
from tests.support import LiveStack

pytestmark = pytest.mark.rasa


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def verify(stack: LiveStack, sender: str, opening: str, ref: str, birth: str) -> list[dict]:
    """Open with a debt question, then pass the identity check (date of birth, then the code the
    debtor gets on the WhatsApp number on file)."""
    first = stack.say(sender, opening)
    assert "DEMO" not in texts(first) and "Rp" not in texts(first), "nothing disclosed before verification"
    return stack.identify(sender, ref, birth)


def account(stack: LiveStack, ref: str) -> Account:
    session = stack.session_factory()
    return session.scalar(select(Account).where(Account.ref == ref))


def test_unverified_sender_learns_nothing_and_a_wrong_date_reads_like_a_right_one(live_stack, sender, new_debtor):
    debtor = new_debtor()
    replies = {}
    for name, birth, address in (("wrong", "01-01-1970", "127.0.0.21"), ("right", debtor.birth, "127.0.0.22")):
        who = f"{sender}-{name}"
        opening = texts(live_stack.say(who, "tagihan saya berapa ya?", address=address)).lower()
        assert "nomor kontrak" in opening or "rekening" in opening
        live_stack.say(who, debtor.ref, address=address)
        replies[name] = texts(live_stack.say(who, birth, address=address))
    assert replies["wrong"] == replies["right"] and "kode verifikasi" in replies["right"]
    assert "Rp" not in replies["wrong"] and "1.750.000" not in replies["right"]


def test_identity_then_balance_in_indonesian(live_stack, sender):
    replies = verify(live_stack, sender, "tagihan sy brp?", "DEMO-1002", "03-09-1992")
    reply = texts(replies)
    assert "terverifikasi" in reply
    assert "Rp2.750.000" in reply and "10 November 2026" in reply and "13 hari" in reply
    with live_stack.session_factory() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        assert conversation.verified and conversation.account.ref == "DEMO-1002"
        messages = list(session.scalars(select(Message).where(Message.conversation_id == conversation.id)))
        inbound = [m.text for m in messages if m.direction == "in"]
        # question, account number, date of birth and code: the last two never as typed
        assert len(inbound) == 4 and "out" in [m.direction for m in messages]
        assert inbound[2].startswith("[tanggal lahir disamarkan") and inbound[3].startswith("[kode verifikasi")


def test_identity_then_balance_in_english(live_stack, sender):
    replies = verify(live_stack, sender, "how much do I owe you?", "DEMO-1005", "30 June 1983")
    reply = texts(replies)
    assert "verified" in reply
    assert "IDR" in reply and "12,500,000" in reply and "20 November 2026" in reply and "3 days past due" in reply


def test_payment_method_after_verification(live_stack, sender):
    verify(live_stack, sender, "bayarnya kemana ya?", "DEMO-1007", "08-07-1999")
    # the pending request is answered right after verification, in the same turn
    with live_stack.session_factory() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        last = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id, Message.direction == "out")
        ).all()
    assert any("Virtual Account" in (m.text or "") for m in last)


def test_promise_to_pay_is_confirmed_and_recorded(live_stack, sender):
    replies = verify(live_stack, sender, "sy mau bayar tgl 27", "DEMO-1007", "08-07-1999")
    assert "Rp600.000" in texts(replies)  # asks how much, offering the full balance
    replies = live_stack.say(sender, "lunas")
    assert "27 November 2026" in texts(replies) and "/affirm" in payloads(replies)
    replies = live_stack.say(sender, "iya")
    assert "sudah kami catat" in texts(replies)
    with live_stack.session_factory() as session:
        promise = session.scalar(select(Promise).join(Account).where(Account.ref == "DEMO-1007"))
        assert promise.promised_date == date(2026, 11, 27)
        assert promise.amount == Decimal("600000") and promise.status == "pending" and promise.kind == "promise"
        assert promise.account.segment == "able_willing"


def test_promise_beyond_the_horizon_offers_the_latest_date_and_installments(live_stack, sender):
    replies = verify(live_stack, sender, "sy bayar 300rb tgl 30 desember", "DEMO-1004", "19-12-1990")
    reply = texts(replies)
    assert "paling lambat" in reply and "7 Desember 2026" in reply
    assert "/request_installment" in payloads(replies)
    assert "2026-12-07" in payloads(replies)
    replies = live_stack.say(sender, "2026-12-07")
    assert "7 Desember 2026" in texts(replies) and "Rp300.000" in texts(replies)


def test_installment_plan_sums_exactly_to_the_balance(live_stack, sender):
    replies = verify(live_stack, sender, "bisa dicicil gak?", "DEMO-1003", "27-01-1985")
    assert "berapa kali" in texts(replies).lower()
    live_stack.say(sender, "3 kali")
    replies = live_stack.say(sender, "tgl 1 bulan depan")
    reply = texts(replies)
    assert "1 Desember 2026" in reply and "1 Januari 2027" in reply and "1 Februari 2027" in reply
    replies = live_stack.say(sender, "setuju")
    assert "Ringkasan tertulis" in texts(replies)
    with live_stack.session_factory() as session:
        plan = session.scalar(select(InstallmentPlan).join(Account).where(Account.ref == "DEMO-1003"))
        assert plan.status == "active" and plan.installment_count == 3
        assert sum(i.amount for i in plan.installments) == plan.account.balance == Decimal("4200000")
        assert plan.account.segment.startswith("unable")


def test_payment_claim_is_recorded_for_reconciliation(live_stack, sender):
    verify(live_stack, sender, "saya sudah bayar kemarin 500rb", "DEMO-1006", "14-02-1995")
    replies = live_stack.say(sender, "TRX77881")
    assert "sudah kami catat" in texts(replies) and "22 November 2026" in texts(replies)
    with live_stack.session_factory() as session:
        claim = session.scalar(select(PaymentClaim).join(Account).where(Account.ref == "DEMO-1006"))
        assert claim.status == "pending" and claim.amount == Decimal("500000")
        assert claim.paid_on == date(2026, 11, 22) and claim.reference == "TRX77881"
        assert claim.account.balance == Decimal("3100000"), "a claim does not change the balance"


def test_dispute_opens_a_handoff_and_pauses_collection(live_stack, sender):
    verify(live_stack, sender, "ini bukan utang saya", "DEMO-1001", "12-04-1988")
    replies = live_stack.say(sender, "saya tidak pernah pinjam di perusahaan ini")
    assert "Keberatan Anda sudah kami catat" in texts(replies)
    with live_stack.session_factory() as session:
        acct = session.scalar(select(Account).where(Account.ref == "DEMO-1001"))
        assert acct.status == "disputed"
        handoff = session.scalar(select(Handoff).where(Handoff.account_id == acct.id))
        assert handoff.reason == "dispute" and handoff.status == "open" and "pinjam" in handoff.note
    assert live_stack.say(sender, "halo?") == [], "the bot stays silent while an agent owns the conversation"


def test_request_human_hands_over_and_the_bot_goes_quiet(live_stack, sender):
    replies = live_stack.say(sender, "saya mau bicara dengan petugas")
    assert "petugas" in texts(replies) and "H0" in texts(replies)
    assert live_stack.say(sender, "halo, ada orang?") == []
    with live_stack.session_factory() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        assert conversation.status == "agent"
        inbound = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id, Message.direction == "in")
        ).all()
        assert [m.text for m in inbound][-1] == "halo, ada orang?", "messages to an agent are still stored"


def test_stop_contact_records_an_opt_out_for_the_channel(live_stack, sender):
    replies = live_stack.say(sender, "stop, jangan kirim pesan lagi ke saya")
    assert "tidak akan mengirim" in texts(replies)
    with live_stack.session_factory() as session:
        pref = session.scalar(select(ContactPreference).where(ContactPreference.address == sender))
        assert pref.kind == "opt_out" and pref.channel == "web"


def test_two_misunderstandings_in_a_row_offer_a_person(live_stack, sender):
    first = live_stack.say(sender, "qwxz vbnm plkj")
    assert "/request_human" not in payloads(first)
    second = live_stack.say(sender, "zzkq wxv jjjh")
    assert "/request_human" in payloads(second)


def test_language_switches_on_request(live_stack, sender):
    replies = live_stack.say(sender, "halo selamat pagi")
    assert "Halo" in texts(replies)
    replies = live_stack.say(sender, "can we speak english please")
    assert "English" in texts(replies)
    replies = live_stack.say(sender, "hello")
    assert "Hello" in texts(replies)


def test_identity_locks_after_three_failures(live_stack, sender, new_debtor):
    debtor, address = new_debtor(), "127.0.0.23"
    live_stack.say(sender, "cek tagihan saya", address=address)
    live_stack.say(sender, debtor.ref, address=address)
    live_stack.say(sender, "01-01-1970", address=address)  # wrong, but the reply asks for the code all the same
    replies = live_stack.say(sender, "123456", address=address)
    assert "Kode tidak cocok" in texts(replies)
    replies = live_stack.say(sender, "654321", address=address)
    assert "tidak dapat memberikan informasi" in texts(replies)
    # even the right details no longer help in this conversation
    live_stack.say(sender, "berapa tagihan saya?", address=address)
    replies = live_stack.say(sender, debtor.ref, address=address)
    assert "Rp" not in texts(replies)


def test_cannot_pay_records_hardship_and_offers_a_plan(live_stack, sender):
    replies = verify(live_stack, sender, "maaf sy baru kena phk jadi belum bisa bayar", "DEMO-1001", "12-04-1988")
    assert "/request_installment" in payloads(replies)
    with live_stack.session_factory() as session:
        acct = session.scalar(select(Account).where(Account.ref == "DEMO-1001"))
        assert acct.segment.startswith("unable")


def test_extension_defaults_to_the_full_balance(live_stack, sender):
    verify(live_stack, sender, "boleh minta perpanjangan sampai tanggal 30?", "DEMO-1008", "12-04-1988")
    replies = live_stack.say(sender, "ya")
    assert "perpanjangan" in texts(replies).lower()
    with live_stack.session_factory() as session:
        promise = session.scalar(select(Promise).join(Account).where(Account.ref == "DEMO-1008"))
        assert promise.kind == "extension" and promise.amount == Decimal("950000")
        assert promise.promised_date == date(2026, 11, 30)


def test_another_question_during_the_identity_check_keeps_it_going(live_stack, sender):
    live_stack.say(sender, "tagihan sy brp?")
    replies = live_stack.say(sender, "bayarnya kemana?")
    assert texts(replies).count("verifikasi") == 1 and "Maaf, kami belum paham" not in texts(replies)
    assert "nomor" in texts(replies).lower(), "the check asks for the account number again"
    replies = live_stack.identify(sender, "DEMO-1007", "08-07-1999")
    assert "Virtual Account" in texts(replies), "the latest question is answered once verified"


def test_asking_for_a_person_during_the_identity_check_is_honoured(live_stack, sender):
    live_stack.say(sender, "brp tagihan saya")
    replies = live_stack.say(sender, "saya mau bicara dengan petugas")
    assert "H0" in texts(replies)
    with live_stack.session_factory() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        assert conversation.status == "agent"
        assert session.scalar(select(Handoff).where(Handoff.conversation_id == conversation.id)).status == "open"


def test_stop_during_the_identity_check_records_the_opt_out(live_stack, sender):
    live_stack.say(sender, "how much do i owe")
    replies = live_stack.say(sender, "stop messaging me")
    assert "will not" in texts(replies).lower() or "tidak akan" in texts(replies)
    with live_stack.session_factory() as session:
        pref = session.scalar(select(ContactPreference).where(ContactPreference.address == sender))
        assert pref.kind == "opt_out"


def test_balance_question_during_a_promise_is_answered_and_the_promise_resumes(live_stack, sender):
    replies = verify(live_stack, sender, "I will pay on the 27th", "DEMO-1005", "30 June 1983")
    assert "how much" in texts(replies).lower()
    replies = live_stack.say(sender, "wait, what is my balance?")
    reply = texts(replies)
    assert "12,500,000" in reply and "how much" in reply.lower(), "answers, then asks the promise question again"
    replies = live_stack.say(sender, "lunas")
    assert "27 November 2026" in texts(replies) and "/affirm" in payloads(replies)
    live_stack.say(sender, "no")
    with live_stack.session_factory() as session:
        assert session.scalar(select(Promise).join(Account).where(Account.ref == "DEMO-1005")) is None
