"""``tagih users`` as an operator uses it: passwords from the terminal or stdin, never the command line."""

from __future__ import annotations

import getpass
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db.models import User
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.users import verify_password
from bot.settings import get_settings

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TAGIH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal(monkeypatch: pytest.MonkeyPatch, *typed: str) -> list[str]:
    """A terminal where getpass returns ``typed`` in turn; returns the prompts shown."""
    prompts: list[str] = []
    answers = iter(typed)

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return prompts


def stored_users(url: str) -> list[User]:
    migrate(url)  # commands refused early never touch the database
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(User).order_by(User.email)))
    finally:
        engine.dispose()


def test_create_reads_one_line_of_stdin_as_the_password(monkeypatch, capsys, database) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "create", "--role", "agent", "Rina@Example.com"]) == 0
    assert capsys.readouterr().out.strip() == "Created agent rina@example.com"
    [user] = stored_users(database)
    assert (user.email, user.role, user.active, user.name) == ("rina@example.com", "agent", True, None)
    assert verify_password(user.password_hash, PASSWORD) and PASSWORD not in user.password_hash


def test_create_an_admin_with_a_name_at_the_terminal(monkeypatch, capsys, database) -> None:
    prompts = terminal(monkeypatch, PASSWORD, PASSWORD)
    assert main(["users", "create", "--role", "admin", "boss@example.com", "--name", "Ibu Sari"]) == 0
    assert prompts == ["Password: ", "Repeat password: "]
    assert "Created admin boss@example.com" in capsys.readouterr().out
    [user] = stored_users(database)
    assert (user.role, user.name) == ("admin", "Ibu Sari")


def test_passwords_typed_differently_are_refused(monkeypatch, capsys, database) -> None:
    terminal(monkeypatch, PASSWORD, PASSWORD + "!")
    assert main(["users", "create", "--role", "agent", "rina@example.com"]) == 2
    assert capsys.readouterr().err.strip() == "error: the passwords do not match"
    assert stored_users(database) == []


def test_a_bad_role_is_a_usage_error(monkeypatch, capsys) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    with pytest.raises(SystemExit) as exited:
        main(["users", "create", "--role", "boss", "rina@example.com"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --role: invalid choice: 'boss'" in err


def test_a_duplicate_email_is_refused(monkeypatch, capsys, database) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "create", "--role", "agent", "rina@example.com"]) == 0
    stdin(monkeypatch, "another long password\n")
    assert main(["users", "create", "--role", "admin", "RINA@example.com"]) == 1
    assert capsys.readouterr().err.strip() == "error: a user with email 'rina@example.com' already exists"
    [user] = stored_users(database)
    assert user.role == "agent" and verify_password(user.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one\n", "error: password must be at least 12 characters"),
        ("aaaaaaaaaaaaaaaa\n", "error: password must not be one character repeated"),
        ("\n", "error: no password given"),
        ("", "error: no password given"),
    ],
)
def test_an_unacceptable_password_is_refused(monkeypatch, capsys, database, password: str, message: str) -> None:
    stdin(monkeypatch, password)
    assert main(["users", "create", "--role", "agent", "rina@example.com"]) == 2
    assert capsys.readouterr().err.startswith(message)
    assert stored_users(database) == []


def test_a_bad_email_is_refused_before_the_password_is_asked(monkeypatch, capsys) -> None:
    prompts = terminal(monkeypatch)
    assert main(["users", "create", "--role", "agent", "not-an-email"]) == 2
    assert capsys.readouterr().err.strip() == "error: 'not-an-email' is not an email address"
    assert prompts == []


def test_list_shows_every_user(monkeypatch, capsys) -> None:
    assert main(["users", "list"]) == 0
    assert "No users yet" in capsys.readouterr().out
    for role, email in [("agent", "rina@example.com"), ("admin", "boss@example.com")]:
        stdin(monkeypatch, PASSWORD + "\n")
        assert main(["users", "create", "--role", role, email]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["boss@example.com", "admin", "active", "-"],
        ["rina@example.com", "agent", "active", "-"],
    ]
