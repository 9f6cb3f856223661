"""``tagih import-payments`` as an operator uses it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings

ACCOUNTS = (
    "account_ref,name,phone,language,timezone,currency,amount_due,due_date,birth_date\n"
    "ACC-1,Rina Wati,081298765432,id,Asia/Makassar,IDR,1250000,2026-11-01,1991-05-05\n"
    "ACC-2,Joko Susilo,081298765433,id,Asia/Jakarta,IDR,300000,2026-11-01,1987-02-03\n"
)
HEADER = "account_ref,amount,paid_at,reference\n"
# The command uses the wall clock, so payment dates are days before today.
PAID = (date.today() - timedelta(days=3)).isoformat()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("TAGIH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(ACCOUNTS, encoding="utf-8")
    assert main(["import-accounts", str(accounts)]) == 0
    capsys.readouterr()
    yield
    get_settings.cache_clear()


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "payments.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def show(ref: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["accounts", "show", ref, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_import_records_payments_and_a_second_run_changes_nothing(tmp_path, capsys):
    path = write(tmp_path, f"ACC-1,250000,{PAID},BCA-1\nACC-2,300000.00,{PAID}T10:00:00+07:00,BCA-2\n")
    assert main(["import-payments", str(path)]) == 0
    assert "2 created, 0 duplicates" in capsys.readouterr().out

    acc1, acc2 = show("ACC-1", capsys), show("ACC-2", capsys)
    assert (acc1["balance"], acc1["status"]) == ("1000000.00", "active")
    assert [(p["amount"], p["reference"], p["source"]) for p in acc1["payments"]] == [("250000.00", "BCA-1", "import")]
    # A date alone is midnight in the debtor's timezone (Makassar, UTC+8).
    assert acc1["payments"][0]["paid_at"] == f"{date.fromisoformat(PAID) - timedelta(days=1)}T16:00:00+00:00"
    assert (acc2["balance"], acc2["status"]) == ("0.00", "paid")

    assert main(["import-payments", str(path)]) == 0
    assert "0 created, 2 duplicates" in capsys.readouterr().out
    assert show("ACC-1", capsys)["payments"] == acc1["payments"]
    assert show("ACC-2", capsys)["payments"] == acc2["payments"]


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(tmp_path, capsys):
    future = (date.today() + timedelta(days=2)).isoformat()
    path = write(
        tmp_path,
        f"ACC-1,250000,{PAID},OK-1\n"
        f"ACC-1,12.345,{PAID},BAD-1\n"
        f"NOPE,100,{PAID},BAD-2\n"
        f"ACC-2,100,{future},BAD-3\n"
        f"ACC-2,100,{PAID},OK-1\n",
    )
    assert main(["import-payments", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: amount: has more than 2 decimal places" in err
    assert f"{path}:4: account_ref: no account with ref 'NOPE'" in err
    assert f"{path}:5: paid_at: is in the future" in err
    assert f"{path}:2: reference: reference 'OK-1' is on lines 2, 6" in err
    assert f"{path}:6: reference:" in err
    assert "5 invalid row(s); nothing was imported" in err
    assert show("ACC-1", capsys)["payments"] == []


def test_skip_invalid_imports_the_good_rows(tmp_path, capsys):
    path = write(tmp_path, f"ACC-1,250000,{PAID},OK-1\nACC-1,-5,{PAID},BAD-1\n")
    assert main(["import-payments", str(path), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "1 created, 0 duplicates (already recorded), 1 skipped" in captured.out
    assert f"{path}:3: amount: must be greater than 0" in captured.err and "(skipped)" in captured.err
    assert show("ACC-1", capsys)["balance"] == "1000000.00"


def test_a_reference_recorded_for_another_amount_is_an_error(tmp_path, capsys):
    assert main(["import-payments", str(write(tmp_path, f"ACC-1,250000,{PAID},BCA-1\n"))]) == 0
    capsys.readouterr()
    assert main(["import-payments", str(write(tmp_path, f"ACC-1,260000,{PAID},BCA-1\n"))]) == 1
    assert "already recorded with amount 250000.00, not 260000.00" in capsys.readouterr().err
    assert show("ACC-1", capsys)["balance"] == "1000000.00"


def test_wrong_header_is_reported_on_line_1(tmp_path, capsys):
    path = write(tmp_path, f"ACC-1,250000,{PAID}\n", header="account_ref,amount,paid_at\n")
    assert main(["import-payments", str(path)]) == 1
    assert f"{path}:1: reference: missing required column" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["import-payments", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
