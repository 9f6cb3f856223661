"""Model fingerprinting: train only when the training data changed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.dialogue.model import TrainingError, current_model, fingerprint, train


@pytest.fixture
def project(tmp_path: Path) -> Path:
    nlu = tmp_path / "nlu"
    (nlu / "data").mkdir(parents=True)
    (nlu / "config.yml").write_text("recipe: default.v1\n")
    (nlu / "domain.yml").write_text("version: '3.1'\n")
    (nlu / "data" / "nlu.yml").write_text("nlu: []\n")
    return nlu


def fake_rasa(tmp_path: Path, exit_code: int = 0) -> Path:
    """A stand-in for the rasa binary that writes the model file it was asked for."""
    script = tmp_path / "rasa"
    script.write_text(
        "#!/bin/sh\n"
        'out=""; name=""\n'
        'while [ $# -gt 0 ]; do case "$1" in\n'
        "  --out) out=$2; shift;;\n"
        "  --fixed-model-name) name=$2; shift;;\n"
        "esac; shift; done\n"
        'echo "Epochs: 100%"\n'
        f'[ {exit_code} -eq 0 ] && touch "$out/$name.tar.gz"\n'
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_fingerprint_follows_the_training_files(project: Path):
    before = fingerprint(project)
    assert fingerprint(project) == before
    (project / "data" / "nlu.yml").write_text("nlu: [changed]\n")
    assert fingerprint(project) != before
    (project / "data" / "notes.txt").write_text("not training data")
    after = fingerprint(project)
    (project / "data" / "notes.txt").write_text("still not training data")
    assert fingerprint(project) == after


def test_train_runs_once_per_fingerprint_and_reports_progress(project: Path, tmp_path: Path):
    models = tmp_path / "models"
    lines: list[str] = []
    path = train(rasa_bin=fake_rasa(tmp_path), models_dir=models, nlu_dir=project, echo=lines.append)
    assert path.exists() and path == current_model(models, project)
    assert any("Epochs" in line for line in lines) and any(str(path) in line for line in lines)
    lines.clear()
    train(rasa_bin=fake_rasa(tmp_path), models_dir=models, nlu_dir=project, echo=lines.append)
    assert lines == [f"Model is up to date: {path}"]


def test_failed_training_raises_and_leaves_no_model(project: Path, tmp_path: Path):
    models = tmp_path / "models"
    with pytest.raises(TrainingError):
        train(rasa_bin=fake_rasa(tmp_path, exit_code=3), models_dir=models, nlu_dir=project, echo=lambda _: None)
    assert current_model(models, project) is None
