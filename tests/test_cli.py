"""The ``tagih`` command line as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings

HEADER = "account_ref,name,phone,language,timezone,currency,amount_due,due_date,birth_date\n"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TAGIH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_then_show_json(tmp_path, capsys):
    path = write(tmp_path, "ACC-1,Rina Wati,081298765432,id,Asia/Makassar,IDR,1250000,2026-11-01,1991-05-05\n")
    assert main(["import-accounts", str(path)]) == 0
    assert "1 created, 0 updated" in capsys.readouterr().out
    assert main(["accounts", "show", "ACC-1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ref"] == "ACC-1" and shown["balance"] == "1250000.00"
    assert shown["debtor"]["phone"] == "+6281298765432" and shown["debtor"]["timezone"] == "Asia/Makassar"
    assert "birth_date" not in shown["debtor"]
    for key in ("promises", "plans", "payments", "claims", "handoffs", "opt_outs"):
        assert shown[key] == []


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(tmp_path, capsys):
    path = write(
        tmp_path,
        "ACC-1,Rina Wati,081298765432,id,Asia/Makassar,IDR,1250000,2026-11-01,1991-05-05\n"
        "ACC-2,Joko,12,id,Asia/Jakarta,IDR,100,2026-11-01,1991-05-05\n"
        "ACC-3,Tono,081298765433,id,Mars/Base,IDR,-5,2026-13-01,1991-05-05\n",
    )
    assert main(["import-accounts", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: phone" in err
    assert f"{path}:4: timezone" in err and f"{path}:4: amount_due" in err and f"{path}:4: due_date" in err
    assert "nothing was imported" in err
    assert main(["accounts", "show", "ACC-1"]) == 1
    assert "no account" in capsys.readouterr().err


def test_skip_invalid_imports_the_good_rows(tmp_path, capsys):
    path = write(
        tmp_path,
        "ACC-1,Rina Wati,081298765432,id,Asia/Makassar,IDR,1250000,2026-11-01,1991-05-05\n"
        "ACC-2,Joko,12,id,Asia/Jakarta,IDR,100,2026-11-01,1991-05-05\n",
    )
    assert main(["import-accounts", str(path), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "1 created" in captured.out and "1 skipped" in captured.out and ":3: phone" in captured.err


def test_a_phone_of_another_debtor_is_reported_with_its_line_and_nothing_is_imported(tmp_path, capsys):
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER.strip() + ",customer_ref\n"
        "ACC-1,Rina Wati,081298765432,id,Asia/Makassar,IDR,1250000,2026-11-01,1991-05-05,CUST-7\n"
        "ACC-2,Rina Wati,081298765432,id,Asia/Makassar,IDR,50000,2099-12-01,1991-05-05,CUST-7\n",
        encoding="utf-8",
    )
    assert main(["import-accounts", str(first)]) == 0
    capsys.readouterr()
    path = write(
        tmp_path,
        "ACC-3,Joko Widodo,081298765499,id,Asia/Jakarta,IDR,100,2026-11-01,1980-01-01\n"
        "ACC-4,Tono Sugiarto,081298765432,id,Asia/Jakarta,IDR,100,2026-11-01,1979-02-02\n",
    )
    assert main(["import-accounts", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: phone: +6281298765432 already belongs to another debtor (customer_ref CUST-7)" in err
    assert "nothing was imported" in err
    assert main(["import-accounts", str(path), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "1 created" in captured.out and "1 skipped" in captured.out
    assert f"{path}:3: phone: +6281298765432 already belongs" in captured.err and "(skipped)" in captured.err
    assert main(["accounts", "show", "ACC-1", "--json"]) == 0
    debtor = json.loads(capsys.readouterr().out)["debtor"]
    assert (debtor["name"], debtor["customer_ref"]) == ("Rina Wati", "CUST-7")
    assert debtor["accounts"] == [{"ref": "ACC-2", "balance": "50000.00", "status": "active", "days_past_due": 0}]
    assert "birth_date" not in debtor


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["import-accounts", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.fixture
def telegram_env(monkeypatch: pytest.MonkeyPatch, bot_api):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:CLI-token")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "cli-secret")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", bot_api.base_url)
    get_settings.cache_clear()
    return bot_api


def test_telegram_set_webhook_registers_url_and_secret(telegram_env, capsys):
    url = "https://tagih.example.com/webhooks/telegram"
    assert main(["telegram", "set-webhook", url]) == 0
    assert url in capsys.readouterr().out
    call = [c for c in telegram_env.calls if c["method"] == "setWebhook"][-1]["params"]
    assert call["url"] == url and call["secret_token"] == "cli-secret"


def test_telegram_set_webhook_refusals_are_explained(telegram_env, monkeypatch, capsys):
    assert main(["telegram", "set-webhook", "http://plain.example.com/hook"]) == 2
    assert "https://" in capsys.readouterr().err
    telegram_env.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host", 400)
    assert main(["telegram", "set-webhook", "https://nowhere.invalid/hook"]) == 1
    assert "failed to resolve host" in capsys.readouterr().err.lower()
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    get_settings.cache_clear()
    assert main(["telegram", "set-webhook", "https://tagih.example.com/hook"]) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


def test_polling_only_without_a_public_url(telegram_env, monkeypatch):
    from bot.cli import telegram_polling_wanted

    assert telegram_polling_wanted(get_settings())
    monkeypatch.setenv("TAGIH_PUBLIC_URL", "https://tagih.example.com")
    get_settings.cache_clear()
    assert not telegram_polling_wanted(get_settings())
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    monkeypatch.delenv("TAGIH_PUBLIC_URL")
    get_settings.cache_clear()
    assert not telegram_polling_wanted(get_settings())
