"""Training the Rasa model (in the Rasa environment) and finding the one to serve.

A model is named after a fingerprint of its training inputs, so ``tagih train`` is a no-op
when nothing changed and ``make run`` can train only when needed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "nlu"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data")
COMPONENTS = "tagih_nlu"


def rasa_env(**extra: str) -> dict[str, str]:
    """Environment for every Rasa subprocess: quiet TensorFlow, and no telemetry or error
    reports sent anywhere (deployments may have no internet, and debtors' data stays here)."""
    return {
        **os.environ,
        # the project's own Rasa components and channel (nlu/tagih_nlu, nlu/connectors) import from
        # here whatever directory Rasa runs in (the admin editor trains in a staging copy)
        "PYTHONPATH": os.pathsep.join(filter(None, [str(NLU_DIR), os.environ.get("PYTHONPATH")])),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        **extra,
    }


class TrainingError(RuntimeError):
    pass


def training_files(nlu_dir: Path = NLU_DIR) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = nlu_dir / name
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")))
        elif path.exists():
            files.append(path)
    return files


def components_root(nlu_dir: Path = NLU_DIR) -> Path:
    """Where the project's own NLU components for ``nlu_dir`` live: its own copy (a staged job), else
    the repository's ``nlu/`` (Rasa imports them from there through PYTHONPATH)."""
    return nlu_dir if (nlu_dir / COMPONENTS).is_dir() else NLU_DIR


def component_files(nlu_dir: Path = NLU_DIR) -> list[Path]:
    """The code of the project's own NLU components: a change to it makes a different model."""
    return sorted((components_root(nlu_dir) / COMPONENTS).glob("*.py"))


def fingerprint(nlu_dir: Path = NLU_DIR) -> str:
    digest = hashlib.sha256()
    code = components_root(nlu_dir)
    for path, root in [
        *((p, nlu_dir) for p in training_files(nlu_dir)),
        *((p, code) for p in component_files(nlu_dir)),
    ]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_name(fp: str) -> str:
    return f"tagih-{fp}"


def current_model(models_dir: Path, nlu_dir: Path = NLU_DIR) -> Path | None:
    path = models_dir / f"{model_name(fingerprint(nlu_dir))}.tar.gz"
    return path if path.exists() else None


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


_PERCENT = re.compile(r"^\s*([^:|]*?):?\s*(\d{1,3})%\|")


class _ProgressFilter:
    """Rasa draws progress bars; keep every 25% of each bar so logs stay readable."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def keep(self, line: str) -> bool:
        if not line.strip():
            return False
        match = _PERCENT.match(line)
        if match is None:
            return True
        label, percent = match.group(1), int(match.group(2))
        step = percent // 25
        if self._last.get(label) == step:
            return False
        self._last[label] = step
        return True


def train(
    *,
    rasa_bin: Path,
    models_dir: Path,
    nlu_dir: Path = NLU_DIR,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> Path:
    """Train unless a model for the current inputs exists; stream Rasa's progress to ``echo``."""
    existing = current_model(models_dir, nlu_dir)
    if existing and not force:
        echo(f"Model is up to date: {existing}")
        return existing
    if not rasa_bin.exists():
        raise TrainingError(f"Rasa is not installed at {rasa_bin}; run 'make setup' first")
    fp = fingerprint(nlu_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa_bin),
        "train",
        "--config",
        str(nlu_dir / "config.yml"),
        "--domain",
        str(nlu_dir / "domain.yml"),
        "--data",
        str(nlu_dir / "data"),
        "--out",
        str(models_dir),
        "--fixed-model-name",
        model_name(fp),
    ]
    echo(f"Training Rasa model {model_name(fp)} from {len(training_files(nlu_dir))} files ...")
    env = rasa_env()
    process = subprocess.Popen(
        command, cwd=nlu_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    progress = _ProgressFilter()
    for line in process.stdout:
        for part in line.rstrip("\n").split("\r"):
            if progress.keep(part):
                echo(part)
    if process.wait() != 0:
        raise TrainingError(f"rasa train failed with exit code {process.returncode}")
    result = models_dir / f"{model_name(fp)}.tar.gz"
    if not result.exists():
        raise TrainingError(f"rasa train finished but {result} is missing")
    echo(f"Model written to {result}")
    return result


def main() -> None:  # pragma: no cover - convenience for `python -m bot.dialogue.model`
    from bot.settings import get_settings

    settings = get_settings()
    train(rasa_bin=settings.rasa_bin, models_dir=settings.models_dir, force="--force" in sys.argv)
