"""A debtor asking for no more messages: the opt-out the rules gate honours, and the segment signal."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Account, ContactPreference, Conversation
from bot.services.accounts import import_account_rows
from bot.services.contact import debtor_asked_to_stop, is_opted_out

ROW = {
    "account_ref": "STOP-1",
    "name": "Debitur Stop",
    "phone": "+6281211110001",
    "language": "id",
    "timezone": "Asia/Jakarta",
    "currency": "IDR",
    "amount_due": "500000",
    "due_date": "2026-11-20",
    "birth_date": "1990-01-01",
}


def test_asking_to_stop_records_one_opt_out_and_the_segment_signal(factory):
    with factory.begin() as session:
        import_account_rows(session, [ROW])
        account = session.scalar(select(Account).where(Account.ref == "STOP-1"))
        account.segment = "able_willing"
        conversation = Conversation(
            channel="whatsapp",
            sender_id="+6281211110001",
            rasa_sender_id="whatsapp:+6281211110001",
            debtor_id=account.debtor_id,
            verified=True,
        )
        session.add(conversation)
        session.flush()
        first = debtor_asked_to_stop(session, conversation, account)
        again = debtor_asked_to_stop(session, conversation, account)
        assert again.id == first.id, "asking twice keeps one opt-out"
        assert first.source == "debtor_request" and first.debtor_id == account.debtor_id
        assert is_opted_out(session, channel="whatsapp", address="+6281211110001")
        assert not is_opted_out(session, channel="telegram", address="+6281211110001")
        assert account.segment == "able_unwilling"
        assert session.scalar(select(ContactPreference.kind)) == "opt_out"
