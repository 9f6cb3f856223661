"""Flow file paths: one check on every way in (admin API, import, save) and out (export).

A flow version's paths become file names when a version is exported or staged for training, so a
path like ``nlu/data/../../../../tmp/x.yml`` must never be stored, read or written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from bot.db.models import FlowVersion
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services import flows
from bot.settings import Settings, get_settings
from bot.web.app import create_app
from tests.console_support import logged_in_clients, make_user
from tests.support import make_settings

ADMIN = "admin@tagih.example"
BAD_PATHS = [
    ("nlu/data/../../../../tmp/x.yml", "'..' segment"),
    ("../etc/passwd.yml", "'..' segment"),
    ("/tmp/x.yml", "absolute"),
    ("nlu/data/..\\..\\x.yml", "backslash"),
    ("nlu/data/x\x00.yml", "control character"),
    ("nlu/data/x\n.yml", "control character"),
    ("nlu/data//x.yml", "empty or '.' segment"),
    ("nlu/data/./x.yml", "empty or '.' segment"),
    ("nlu/data/bad name.yml", "may only contain"),
    ("nlu/data/rules.txt", "is not a flow file"),
    ("nlu/endpoints.yml", "is not a flow file"),
    ("bot/settings.yml", "is not a flow file"),
    ("", "is empty"),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def factory(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    """The migrated database of ``settings``, also named by TAGIH_DATABASE_URL for CLI commands."""
    monkeypatch.setenv("TAGIH_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()
    get_settings.cache_clear()


def do(factory: sessionmaker[Session], work: Any) -> Any:
    with factory.begin() as session:
        return work(session)


def version_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count(FlowVersion.id))) or 0


def store_unchecked(factory: sessionmaker[Session], extra: dict[str, str]) -> int:
    """A version written straight to the database, as one saved before paths were checked could be."""
    with factory.begin() as session:
        current = flows.seed(session)
        number = current.number + 1
        session.add(
            FlowVersion(number=number, documents={**current.documents, **extra}, summary="old", created_by="old")
        )
    return number


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")) if directory.exists() else []


# ---------------------------------------------------------------------------------------------------
# The check itself


@pytest.mark.parametrize(("path", "reason"), BAD_PATHS)
def test_paths_outside_the_flow_set_are_refused_with_the_reason(path: str, reason: str) -> None:
    problem = flows.path_problem(path)
    assert problem is not None and reason in problem


def test_every_repository_file_is_a_flow_path() -> None:
    documents = flows.repository_documents()
    assert all(flows.path_problem(path) is None for path in documents), documents.keys()
    assert flows.path_problem("nlu/data/nlu/new_intent.yaml") is None  # new training files are welcome


# ---------------------------------------------------------------------------------------------------
# In: the admin API, save, restore


@pytest.fixture
def admin_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[tuple[Any, str]]:
    make_user(factory, ADMIN, "admin")
    with logged_in_clients(create_app(settings)) as open_client:
        client, token = open_client(ADMIN)
        yield client, token


@pytest.mark.parametrize(("path", "reason"), [p for p in BAD_PATHS if p[0]])
def test_the_api_refuses_a_bad_path_with_422_and_stores_nothing(
    admin_client: tuple[Any, str], factory: sessionmaker[Session], path: str, reason: str
) -> None:
    client, token = admin_client
    response = client.put(
        "/admin/api/flows/files", json={"path": path, "text": "nlu: []\n"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert version_count(factory) == 1, "only the seeded version"


def test_the_api_saves_a_new_training_file_but_not_one_that_climbs_out(admin_client: tuple[Any, str], factory) -> None:
    client, token = admin_client
    text = 'version: "3.1"\nnlu: []\n'
    headers = {"X-CSRF-Token": token}
    saved = client.put("/admin/api/flows/files", json={"path": "nlu/data/nlu/extra.yml", "text": text}, headers=headers)
    assert saved.status_code == 200 and saved.json()["number"] == 2
    climbing = "nlu/data/nlu/../../../../tmp/extra.yml"
    refused = client.put("/admin/api/flows/files", json={"path": climbing, "text": text}, headers=headers)
    assert refused.status_code == 422 and "'..' segment" in refused.json()["detail"]
    assert version_count(factory) == 2


def test_save_and_restore_refuse_a_stored_bad_path(factory: sessionmaker[Session]) -> None:
    number = store_unchecked(factory, {"nlu/data/../../../../tmp/x.yml": "nlu: []\n"})
    with pytest.raises(flows.FlowError, match=r"'\.\.' segment"):
        do(factory, lambda s: flows.restore(s, number, by="admin@x"))
    documents = do(factory, lambda s: dict(flows.get_version(s, 1).documents))
    with pytest.raises(flows.FlowError, match="absolute"):
        do(factory, lambda s: flows.save(s, {**documents, "/etc/x.yml": "a: 1\n"}, by="a", summary="x"))
    assert version_count(factory) == 2


# ---------------------------------------------------------------------------------------------------
# Out: exports of a version stored before the check existed


def test_exporting_a_stored_bad_path_writes_nothing_anywhere(factory: sessionmaker[Session], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    number = store_unchecked(factory, {"nlu/data/../../../outside/x.yml": "pwned: true\n"})
    target = tmp_path / "a" / "export"
    with pytest.raises(flows.FlowError, match=r"'\.\.' segment"):
        do(factory, lambda s: flows.export_all(s, number, target))
    with pytest.raises(flows.FlowError, match=r"'\.\.' segment"):
        do(factory, lambda s: flows.export_version(s, number, tmp_path / "a" / "train"))
    assert files_under(outside) == [] and files_under(target) == [] and files_under(tmp_path / "a" / "train") == []


def test_the_cli_export_names_the_bad_path_and_writes_nothing(
    factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = store_unchecked(factory, {"nlu/data/../../../../tmp/tagih-x.yml": "pwned: true\n"})
    target = tmp_path / "export"
    assert main(["flows", "export", str(target), "--version", str(number)]) == 1
    err = capsys.readouterr().err
    assert "'nlu/data/../../../../tmp/tagih-x.yml' has a '..' segment" in err and "nothing was exported" in err
    assert files_under(target) == []


def test_export_does_not_follow_a_symlink_in_the_export_folder(factory: sessionmaker[Session], tmp_path: Path) -> None:
    do(factory, flows.seed)
    outside = tmp_path / "outside"
    outside.mkdir()
    train = tmp_path / "train"
    train.mkdir()
    (train / "data").symlink_to(outside, target_is_directory=True)
    with pytest.raises(flows.FlowError, match="symlink"):
        do(factory, lambda s: flows.export_version(s, 1, train))
    assert files_under(outside) == []
    other = tmp_path / "other"
    other.mkdir()
    (other / "domain.yml").symlink_to(outside / "domain.yml")  # a file link, dangling until written through
    with pytest.raises(flows.FlowError, match="domain.yml"):
        do(factory, lambda s: flows.export_version(s, 1, other))
    assert files_under(outside) == []


# ---------------------------------------------------------------------------------------------------
# In: imports


def exported(factory: sessionmaker[Session], target: Path) -> Path:
    do(factory, lambda s: flows.export_all(s, None, target))
    return target


def test_import_refuses_a_symlinked_file_and_stores_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    folder = exported(factory, tmp_path / "flows")
    secret = tmp_path / "secret.yml"
    secret.write_text("nlu: []\n")
    (folder / "nlu" / "data" / "stolen.yml").symlink_to(secret)
    with pytest.raises(flows.FlowError, match=r"nlu/data/stolen\.yml is a symlink"):
        do(factory, lambda s: flows.import_directory(s, folder, by="admin@x"))
    assert version_count(factory) == 1


def test_import_refuses_a_symlinked_folder(factory: sessionmaker[Session], tmp_path: Path) -> None:
    folder = exported(factory, tmp_path / "flows")
    elsewhere = tmp_path / "elsewhere"
    (folder / "nlu" / "data" / "nlu").rename(elsewhere)
    (folder / "nlu" / "data" / "nlu").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(flows.FlowError, match=r"nlu/data/nlu is a symlink"):
        do(factory, lambda s: flows.import_directory(s, folder, by="admin@x"))
    os.unlink(folder / "nlu" / "data" / "nlu")
    (folder / "scheduler").rename(tmp_path / "scheduler")
    (folder / "scheduler").symlink_to(tmp_path / "scheduler", target_is_directory=True)
    with pytest.raises(flows.FlowError, match=r"scheduler is a symlink"):
        do(factory, lambda s: flows.import_directory(s, folder, by="admin@x"))
    assert version_count(factory) == 1


def test_import_refuses_a_file_name_that_is_not_a_flow_path(factory: sessionmaker[Session], tmp_path: Path) -> None:
    folder = exported(factory, tmp_path / "flows")
    (folder / "nlu" / "data" / "bad name.yml").write_text("nlu: []\n")
    with pytest.raises(flows.FlowError, match="may only contain"):
        do(factory, lambda s: flows.import_directory(s, folder, by="admin@x"))
    assert version_count(factory) == 1


def test_the_cli_import_names_the_symlink_and_imports_nothing(
    factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = exported(factory, tmp_path / "flows")
    (tmp_path / "secret.yml").write_text("rules: []\n")
    (folder / "nlu" / "data" / "rules.yml").unlink()
    (folder / "nlu" / "data" / "rules.yml").symlink_to(tmp_path / "secret.yml")
    assert main(["flows", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "nlu/data/rules.yml is a symlink" in err and "nothing was imported" in err
    assert version_count(factory) == 1


def test_an_import_reads_only_the_flow_files(factory: sessionmaker[Session], tmp_path: Path) -> None:
    folder = exported(factory, tmp_path / "flows")
    (folder / "nlu" / "endpoints.yml").write_text("action_endpoint: {url: http://evil}\n")
    (folder / "nlu" / "extra.yml").write_text("a: 1\n")  # not a flow path: not read (and so not stored)
    (folder / ".venv").mkdir()
    (folder / ".venv" / "python").symlink_to("/usr/bin/python3")  # a checkout's links are not read
    domain = folder / "nlu" / "domain.yml"
    domain.write_text(domain.read_text() + "\n# edited\n")
    version = do(factory, lambda s: flows.import_directory(s, folder, by="admin@x"))
    assert version_count(factory) == 2
    paths = do(factory, lambda s: sorted(flows.get_version(s, 2).documents))
    assert version.number == 2 and "nlu/endpoints.yml" not in paths and "nlu/extra.yml" not in paths
    assert paths == sorted(flows.repository_documents())
