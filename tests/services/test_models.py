"""Training jobs with a stand-in for the rasa command line: progress, evaluation, cancelling, failing,
recovering after a crash, and nothing half-written in the models directory."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, ModelActivation, TrainingJob
from bot.dialogue.model import fingerprint, model_name
from bot.dialogue.training import TrainingSourceError
from bot.errors import ConflictError, NotFoundError
from bot.modelops.activation import startup_model
from bot.modelops.jobs import FINAL_STATUSES
from bot.modelops.manager import ModelManager
from bot.modelops.store import job_directory_name
from tests.fakes import rasa_cli

INTENTS = {
    "greet": ["halo", "hai", "selamat pagi", "hello", "pagi kak", "hai min", "halo kak", "permisi", "hi", "hey"],
    "affirm": ["iya", "ok", "boleh", "setuju", "siap", "yes", "betul", "sip", "oke", "ya"],
    "deny": ["tidak", "nggak", "no", "bukan", "ga mau", "jangan", "belum", "tidak mau", "nope", "ogah"],
}


def write_project(directory: Path, *, extra: str = "") -> Path:
    (directory / "data").mkdir(parents=True, exist_ok=True)
    (directory / "config.yml").write_text(
        "recipe: default.v1\nlanguage: id\npipeline:\n  - name: WhitespaceTokenizer\n"
        "  - name: DIETClassifier\n    epochs: 100\npolicies:\n  - name: RulePolicy\n"
    )
    (directory / "domain.yml").write_text('version: "3.1"\nintents: [greet, affirm, deny]\n')
    body = "".join(
        f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {text}\n" for text in texts)
        for intent, texts in INTENTS.items()
    )
    (directory / "data" / "nlu.yml").write_text(f'version: "3.1"\nnlu:\n{body}{extra}')
    (directory / "data" / "notes.txt").write_text("not training data")
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "nlu")


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    (directory / "tagih-old.tar.gz").write_bytes(b"the model in service")
    return directory


@pytest.fixture
def fake_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "rasa-calls.log"
    monkeypatch.setenv("FAKE_RASA_LOG", str(log))
    return log


@pytest.fixture
def manager(factory, project, models_dir, tmp_path, fake_log) -> Iterator[ModelManager]:
    models = ModelManager(factory, rasa_bin=rasa_cli.install(tmp_path), models_dir=models_dir, nlu_dir=project)
    yield models
    models.shutdown()


def wait_for(manager: ModelManager, job_id: int, *, until: Any = None, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = manager.job(job_id)
        if until(job) if until else job["status"] in FINAL_STATUSES:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not get there within {seconds}s: {job}")
        time.sleep(0.05)


def model_files(models_dir: Path) -> set[str]:
    return {p.name for p in models_dir.glob("*.tar.gz")}


def test_a_job_validates_trains_evaluates_and_publishes_the_model(manager, project, models_dir):
    job_id = manager.start_training(project, label="first try", created_by="admin@tagih.example")
    job = wait_for(manager, job_id)
    assert job["status"] == "succeeded", job
    name = model_name(fingerprint(project))
    assert job["model_name"] == name and job["progress"] == 100 and job["stage"] == "ready to activate"
    assert model_files(models_dir) == {"tagih-old.tar.gz", f"{name}.tar.gz"}
    assert (models_dir / ".sources" / name / "data" / "nlu.yml").exists(), "a copy of what it was trained on"
    assert list((models_dir / ".jobs").iterdir()) == [], "no work files left"
    # Validation warnings are kept, library noise is not.
    assert "UserWarning: The utterance 'utter_x' is not used" in job["validation_output"]
    assert job["validation_expected"] == [], "nothing sends utter_x: a warning worth reading"
    assert "DeprecationWarning" not in job["validation_output"] + job["log_tail"]
    assert "Epochs:" in job["log_tail"] and "$ rasa train --skip-validation" in job["log_tail"]

    evaluation = job["evaluation"]
    assert evaluation["method"] == "held-out" and evaluation["split"]["seed"] == 42
    candidate, active = evaluation["candidate"], evaluation["active"]
    assert candidate["model"] == name and candidate["examples"] == 6 and candidate["accuracy"] == 1.0
    assert set(candidate["intents"]) == {"greet", "affirm", "deny"}
    assert candidate["intents"]["greet"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert candidate["seen_in_training"] == 0, "held out: none of the test messages was trained on"
    assert active["model"] == "tagih-old" and active["seen_in_training"] is None, "unknown training data"
    summary = job["evaluation_summary"]
    assert summary["macro_f1"] == 1.0 and summary["active_model"] == "tagih-old"


def test_progress_and_the_component_in_training_are_visible_while_it_runs(manager, project, tmp_path, monkeypatch):
    hold = tmp_path / "release"
    monkeypatch.setenv("FAKE_RASA_HOLD", str(hold))
    job_id = manager.start_training(project, label="watched")
    job = wait_for(manager, job_id, until=lambda j: j["status"] == "training" and "DIETClassifier" in j["stage"])
    assert job["stage"] == "training: DIETClassifier"
    # DIET is 40% through its epochs: past the light components, far from done.
    job = wait_for(manager, job_id, until=lambda j: j["progress"] >= 20)
    assert 20 <= job["progress"] < 55, job
    assert "Epochs:  40%" in job["log_tail"]
    hold.write_text("go")
    assert wait_for(manager, job_id)["status"] == "succeeded"


def test_the_same_inputs_give_the_same_model_which_is_reused(manager, project, fake_log):
    first = wait_for(manager, manager.start_training(project, label="one"))
    trainings = fake_log.read_text().count("train --skip-validation")
    second = wait_for(manager, manager.start_training(project, label="two"))
    assert second["status"] == "succeeded" and second["model_name"] == first["model_name"]
    assert "reusing it" in second["log_tail"]
    assert fake_log.read_text().count("train --skip-validation") == trainings, "not trained again"


def test_a_config_override_changes_the_staged_config_and_the_name(manager, project, models_dir):
    job_id = manager.start_training(project, label="quick", config_override={"DIETClassifier": {"epochs": 5}})
    job = wait_for(manager, job_id)
    assert job["status"] == "succeeded" and job["config_override"] == {"DIETClassifier": {"epochs": 5}}
    assert job["model_name"] != model_name(fingerprint(project))
    assert "epochs: 5" in (models_dir / ".sources" / job["model_name"] / "config.yml").read_text()
    assert "epochs: 100" in (project / "config.yml").read_text(), "the source is never changed"


def test_bad_sources_and_overrides_are_refused_before_a_job_exists(manager, factory, project, tmp_path):
    with pytest.raises(TrainingSourceError, match="no such component|no component"):
        manager.start_training(project, label="x", config_override={"TEDPolicy": {"epochs": 5}})
    with pytest.raises(TrainingSourceError, match="not a Rasa project"):
        manager.start_training(tmp_path, label="x")
    with pytest.raises(TrainingSourceError, match="label"):
        manager.start_training(project, label="   ")
    with factory() as session:
        assert session.scalars(select(TrainingJob)).all() == []
    assert [p.name for p in (manager.models_dir / ".jobs").iterdir()] == []


def test_invalid_training_data_fails_validation_and_publishes_nothing(manager, tmp_path, models_dir):
    broken = write_project(tmp_path / "broken", extra="- intent: greet\n  examples: INVALID\n")
    job = wait_for(manager, manager.start_training(broken, label="broken"))
    assert job["status"] == "failed" and job["progress"] < 55
    assert job["error"].startswith("the training data is invalid: YamlSyntaxException")
    assert "YamlSyntaxException" in job["validation_output"]
    assert model_files(models_dir) == {"tagih-old.tar.gz"}
    assert (models_dir / "tagih-old.tar.gz").read_bytes() == b"the model in service"


def test_a_failing_training_leaves_no_half_written_model(manager, project, models_dir, monkeypatch):
    monkeypatch.setenv("FAKE_RASA_TRAIN_EXIT", "3")
    job = wait_for(manager, manager.start_training(project, label="out of memory"))
    assert job["status"] == "failed" and "exit code 3" in job["error"]
    assert "ResourceExhaustedError" in job["log_tail"]
    assert model_files(models_dir) == {"tagih-old.tar.gz"}
    assert list((models_dir / ".jobs").iterdir()) == []
    assert manager.active_model_name() == "tagih-old"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie (not reaped yet by pytest) counts as gone
        return handle.read().split()[2] != "Z"


def test_cancel_stops_the_whole_process_group_and_publishes_nothing(
    manager, project, models_dir, tmp_path, monkeypatch
):
    child = tmp_path / "child.pid"
    monkeypatch.setenv("FAKE_RASA_HOLD", str(tmp_path / "never"))
    monkeypatch.setenv("FAKE_RASA_CHILD", str(child))
    job_id = manager.start_training(project, label="to cancel")
    wait_for(manager, job_id, until=lambda j: j["progress"] >= 20)
    pid = int(child.read_text())
    assert _alive(pid)
    job = manager.cancel(job_id, by="admin@tagih.example")
    assert job["status"] == "cancelled" and job["stage"] == "cancelled by admin@tagih.example"
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "rasa's children are stopped too"
    while list((models_dir / ".jobs").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((models_dir / ".jobs").iterdir()) == [], "its work files are removed"
    assert model_files(models_dir) == {"tagih-old.tar.gz"}
    assert manager.cancel(job_id)["status"] == "cancelled", "cancelling twice is harmless"
    with pytest.raises(NotFoundError):
        manager.cancel(9999)


def test_a_queued_job_can_be_cancelled_and_never_runs(manager, project, tmp_path, monkeypatch, fake_log):
    hold = tmp_path / "release"
    monkeypatch.setenv("FAKE_RASA_HOLD", str(hold))
    first = manager.start_training(project, label="first")
    second = manager.start_training(project, label="second", config_override={"DIETClassifier": {"epochs": 7}})
    assert manager.job(second)["status"] == "queued"
    assert manager.cancel(second)["status"] == "cancelled"
    hold.write_text("go")
    assert wait_for(manager, first)["status"] == "succeeded"
    time.sleep(0.3)
    assert manager.job(second)["status"] == "cancelled"
    assert fake_log.read_text().count("data validate") == 1, "the cancelled job never started"
    with pytest.raises(ConflictError, match="already succeeded"):
        manager.cancel(first)


def test_jobs_left_mid_way_by_a_dead_process_are_marked_failed_at_start(factory, manager, models_dir):
    now = datetime.now(timezone.utc)
    host = socket.gethostname()
    dead = _dead_pid()

    def job(status: str, runner: str) -> int:
        with factory.begin() as session:
            row = TrainingJob(
                label=status,
                source="repository",
                status=status,
                runner=runner,
                created_by="admin",
                model_name="tagih-x",
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    orphan = job("training", f"{host}:{dead}:abcd")
    queued_orphan = job("queued", f"{host}:{dead}:abcd")
    elsewhere = job("evaluating", f"another-host:{os.getpid()}:abcd")
    (models_dir / ".jobs" / job_directory_name(orphan, f"{host}:{dead}:abcd") / "out").mkdir(parents=True)
    # A work directory of another database sharing models_dir (tests beside a development server).
    (models_dir / ".jobs" / job_directory_name(orphan, f"{host}:{os.getpid()}:other") / "out").mkdir(parents=True)
    assert sorted(manager.recover_interrupted()) == [orphan, queued_orphan]
    recovered = manager.job(orphan)
    assert recovered["status"] == "failed" and recovered["stage"] == "interrupted while training"
    assert "no model was published" in recovered["error"] and recovered["finished_at"]
    assert manager.job(elsewhere)["status"] == "evaluating", "another host's job is not ours to judge"
    assert [p.name for p in (models_dir / ".jobs").iterdir()] == [f"{orphan}-other"]


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1


def test_stopping_the_app_stops_and_fails_the_running_job(factory, project, models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_RASA_HOLD", str(tmp_path / "never"))
    models = ModelManager(factory, rasa_bin=rasa_cli.install(tmp_path), models_dir=models_dir, nlu_dir=project)
    job_id = models.start_training(project, label="interrupted")
    wait_for(models, job_id, until=lambda j: j["progress"] >= 20)
    models.shutdown()
    job = models.job(job_id)
    assert job["status"] == "failed" and "app stopped" in job["error"]
    assert model_files(models_dir) == {"tagih-old.tar.gz"}
    with pytest.raises(ConflictError):
        models.start_training(project, label="after stop")


def test_the_models_list_labels_each_file_and_marks_the_active_one(manager, project, factory):
    job = wait_for(manager, manager.start_training(project, label="with label", created_by="ops@tagih.example"))
    listed = {m["name"]: m for m in manager.models()}
    assert set(listed) == {"tagih-old", job["model_name"]}
    new = listed[job["model_name"]]
    assert new["label"] == "with label" and new["job_id"] == job["id"] and new["created_by"] == "ops@tagih.example"
    assert new["evaluation"]["accuracy"] == 1.0
    # No activation recorded: the model for the current training files is what serve would start.
    assert new["active"] and not listed["tagih-old"]["active"]
    assert listed["tagih-old"]["label"] == "trained outside the editor (tagih train)"
    with factory.begin() as session:
        session.add(ModelActivation(model_name="tagih-old", activated_by="test"))
    assert manager.active_model_name() == "tagih-old"
    assert startup_model(factory, manager.models_dir, project).name == "tagih-old.tar.gz"
    with factory() as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert "model.training_queued" in actions


def test_the_active_models_evaluation_counts_test_messages_it_was_trained_on(manager, project, models_dir, monkeypatch):
    # The repository's model (named after nlu/'s fingerprint) is active; the candidate adds examples.
    (models_dir / f"{model_name(fingerprint(project))}.tar.gz").write_bytes(b"repository model")
    monkeypatch.setenv("FAKE_RASA_MISTAKE", "baru")
    changed = write_project(
        project.parent / "changed",
        extra="- intent: greet\n  examples: |\n" + "".join(f"    - baru {i}\n" for i in range(9)),
    )
    job = wait_for(manager, manager.start_training(changed, label="more greetings"))
    active = job["evaluation"]["active"]
    assert active["model"] == model_name(fingerprint(project))
    assert active["examples"] == 8 and active["seen_in_training"] == 6
    assert active["unseen"]["examples"] == 2 and active["unseen"]["accuracy"] == 0.0
    confused = job["evaluation"]["candidate"]["confused"]
    assert confused == [{"intent": "greet", "predicted": "deny", "count": 2}]


def test_the_model_serve_started_with_is_recorded_so_a_new_model_is_not_taken_for_it(manager, project, factory):
    assert manager.record_startup_model() == "tagih-old"
    assert manager.record_startup_model() is None, "only when nothing is recorded"
    job = wait_for(manager, manager.start_training(project, label="newer"))
    assert job["status"] == "succeeded"
    # The new file is both the newest and the one for the current training files, yet not in service.
    assert manager.active_model_name() == "tagih-old"
    assert [m["name"] for m in manager.models() if m["active"]] == ["tagih-old"]
    assert startup_model(factory, manager.models_dir, project).name == "tagih-old.tar.gz"
