"""Finding 3 (secrets) and finding 2 (where Rasa listens): no secret has a fixed default in any mode;
outside production they are generated once into a file only the owner can read and reused; Rasa is
bound to loopback whatever TAGIH_HOST says."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.cli import rasa_server_for
from bot.local_secrets import SecretsFileError
from bot.settings import SECRET_FIELDS, Settings

SECRET_ENV = ("TAGIH_SECRET_KEY", "TAGIH_ACTION_TOKEN", "TAGIH_RASA_TOKEN", "TAGIH_ENV")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, TAGIH_SECRETS_FILE=tmp_path / "var" / "secrets.env", **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("environment", ["development", "test"])
def test_no_secret_has_a_default(tmp_path: Path, environment: str) -> None:
    bare = settings(tmp_path, TAGIH_ENV=environment)
    for name in SECRET_FIELDS:
        assert getattr(bare, name) is None
        with pytest.raises(RuntimeError, match="is not set"):
            bare.secret(name)


def test_generated_once_private_and_reused(tmp_path: Path) -> None:
    first = settings(tmp_path).with_generated_secrets()
    path = tmp_path / "var" / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = {name: first.secret(name) for name in SECRET_FIELDS}
    assert len(set(values.values())) == 3 and all(len(v) >= 40 for v in values.values())
    again = settings(tmp_path).with_generated_secrets()
    assert {name: again.secret(name) for name in SECRET_FIELDS} == values
    # one set explicitly wins; the file keeps the others
    explicit = settings(tmp_path, TAGIH_SECRET_KEY=SecretStr("x" * 40)).with_generated_secrets()
    assert explicit.secret("secret_key") == "x" * 40 and explicit.secret("rasa_token") == values["rasa_token"]


def test_rotating_one_secret_by_deleting_its_line(tmp_path: Path) -> None:
    first = settings(tmp_path).with_generated_secrets()
    path = tmp_path / "var" / "secrets.env"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("TAGIH_RASA_TOKEN=")]
    path.write_text("\n".join(kept) + "\n")
    second = settings(tmp_path).with_generated_secrets()
    assert second.secret("rasa_token") != first.secret("rasa_token")
    assert second.secret("secret_key") == first.secret("secret_key")


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings(tmp_path).with_generated_secrets()
    path = tmp_path / "var" / "secrets.env"
    os.chmod(path, 0o644)
    with pytest.raises(SecretsFileError, match="chmod 600"):
        settings(tmp_path).with_generated_secrets()


@pytest.mark.parametrize("value", ["dev-secret", "changeme", "secret", "  "])
def test_placeholders_are_refused_in_every_mode(tmp_path: Path, value: str) -> None:
    for environment in ("development", "test", "production"):
        with pytest.raises(ValidationError, match="TAGIH_SECRET_KEY"):
            settings(tmp_path, TAGIH_ENV=environment, TAGIH_SECRET_KEY=SecretStr(value))


def test_production_needs_every_secret_set_and_long(tmp_path: Path) -> None:
    strong = {name.upper(): SecretStr(f"{name}-" + "k" * 30) for name in ("tagih_secret_key", "tagih_action_token")}
    with pytest.raises(ValidationError, match="TAGIH_RASA_TOKEN must be set in production"):
        settings(tmp_path, TAGIH_ENV="production", **strong)
    with pytest.raises(ValidationError, match="at least 24 characters"):
        settings(tmp_path, TAGIH_ENV="production", TAGIH_RASA_TOKEN=SecretStr("short-token"), **strong)
    ok = settings(tmp_path, TAGIH_ENV="production", TAGIH_RASA_TOKEN=SecretStr("r" * 32), **strong)
    assert ok.with_generated_secrets() is ok
    assert not (tmp_path / "var" / "secrets.env").exists()  # production never writes one


def test_rasa_is_bound_to_loopback_whatever_the_app_host(tmp_path: Path) -> None:
    public = settings(tmp_path, TAGIH_HOST="0.0.0.0").with_generated_secrets()
    server = rasa_server_for(public, tmp_path / "model.tar.gz")
    command = server.command()
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert public.action_endpoint_url.startswith("http://127.0.0.1:")
    assert all(public.secret(name) not in " ".join(command) for name in SECRET_FIELDS)
    chosen = settings(tmp_path, TAGIH_RASA_HOST="10.0.0.5").with_generated_secrets()
    command = rasa_server_for(chosen, tmp_path / "model.tar.gz").command()
    assert command[command.index("--interface") + 1] == "10.0.0.5"
