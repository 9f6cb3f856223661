"""`tagih nudges plan|run` as an operator uses them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db.models import Nudge, Promise
from bot.db.session import make_engine, make_session_factory, migrate
from bot.settings import get_settings
from tests.outreach.conftest import Accounts, days
from tests.support import TEST_RASA_TOKEN

TODAY = date(2026, 11, 23)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TAGIH_DATABASE_URL", url)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "token")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "secret")
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "1")
    get_settings.cache_clear()
    migrate(url)
    yield make_session_factory(make_engine(url))
    get_settings.cache_clear()


def test_plan_shows_sends_deferrals_and_skips_and_changes_nothing(db, capsys):
    accounts = Accounts(db)
    due_today = accounts.add(due=TODAY)
    promised = accounts.add(due=TODAY - days(3))
    paid = accounts.add(due=TODAY - days(1))
    with db.begin() as session:
        session.add(Promise(account_id=accounts.get(session, promised).id, amount=Decimal("1"), promised_date=TODAY))
    assert main(["nudges", "plan", "--now", "2026-11-23T10:00+07:00", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(i["account_ref"], i["stage"], i["channel"]) for i in result["send"]] == [
        (due_today, "d0", "whatsapp"),
        (paid, "d+1", "whatsapp"),
    ]
    assert result["deferred"] == [
        {
            "account_ref": promised,
            "stage": "d+3",
            "kind": "stage",
            "until": "2026-11-23T17:00:00+00:00",
            "reason": "promise to pay pending until 2026-11-23",
        }
    ]
    with db() as session:
        assert session.scalar(select(func.count(Nudge.id))) == 0, "a plan preview writes nothing"
    assert main(["nudges", "plan", "--now", "2026-11-29T10:00+07:00"]) == 0
    out = capsys.readouterr().out
    assert "send now: 0" in out and "no contact on Sun" in out


def test_now_must_be_an_instant_with_an_offset(db, capsys):
    with pytest.raises(SystemExit):
        main(["nudges", "plan", "--now", "2026-11-23T10:00"])
    assert "UTC offset" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nudges", "plan", "--now", "next tuesday"])
    assert "ISO 8601" in capsys.readouterr().err


def test_run_without_channels_is_refused(db, monkeypatch, capsys):
    monkeypatch.delenv("WHATSAPP_ACCESS_TOKEN")
    get_settings.cache_clear()
    assert main(["nudges", "run", "--now", "2026-11-23T10:00+07:00"]) == 2
    assert "no WhatsApp or Telegram credentials" in capsys.readouterr().err


@pytest.mark.rasa
def test_run_records_the_reminder_in_rasa_and_sends_it(db, live_stack, graph_api, monkeypatch, capsys):
    """Its own database, the shared Rasa server, the fake Graph API."""
    monkeypatch.setenv("TAGIH_RASA_URL", live_stack.rasa_url)
    monkeypatch.setenv("TAGIH_RASA_TOKEN", TEST_RASA_TOKEN)
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", graph_api.base_url)
    get_settings.cache_clear()
    accounts = Accounts(db)
    ref = accounts.add(due=TODAY)
    with db() as session:
        phone = accounts.debtor(session, ref).phone.lstrip("+")
    assert main(["nudges", "run", "--now", "2026-11-23T10:00+07:00"]) == 0
    assert "sent 1, deferred 0, skipped 0, failed 0" in capsys.readouterr().out
    (request,) = [r["json"] for r in graph_api.requests if r["json"].get("to") == phone]
    assert request["template"]["name"] == "tagih_due_today"
    with db() as session:
        nudge = session.scalar(select(Nudge))
        assert nudge.status == "sent" and nudge.message.delivery_status == "sent"
    assert main(["nudges", "run", "--now", "2026-11-23T10:05+07:00"]) == 0
    assert "sent 0" in capsys.readouterr().out, "never twice"
