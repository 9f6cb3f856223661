"""The model files on disk: every model is ``<models_dir>/<name>.tar.gz``; a job stages and works in
its own directory under ``<models_dir>/.jobs/`` and, once it succeeded, moves its model into
``models_dir`` (a rename on the same file system) with a copy of its training files in
``<models_dir>/.sources/<name>/``, so a failed, cancelled or interrupted job leaves nothing behind
and the model being served is never touched by training.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from bot.dialogue.model import fingerprint, model_name
from bot.dialogue.training import nlu_examples

__all__ = [
    "MODEL_NAME",
    "MODEL_SUFFIX",
    "STAGING_MAX_AGE_SECONDS",
    "ModelStore",
    "job_directory_name",
    "name_of",
]

MODEL_SUFFIX = ".tar.gz"
STAGING_MAX_AGE_SECONDS = 3600
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def job_directory_name(job_id: int, runner: str | None) -> str:
    """The work directory of a job under ``<models_dir>/.jobs``: its id and its runner's token."""
    return f"{job_id}-{(runner or '').rpartition(':')[2]}"


def name_of(path: Path) -> str:
    """The model name of a model file."""
    return path.name[: -len(MODEL_SUFFIX)]


class ModelStore:
    """The model files, the jobs' work directories and the training files of published models."""

    def __init__(self, models_dir: Path, nlu_dir: Path) -> None:
        self.models_dir = models_dir
        self.nlu_dir = nlu_dir

    @property
    def jobs_root(self) -> Path:
        return self.models_dir / ".jobs"

    @property
    def sources_root(self) -> Path:
        return self.models_dir / ".sources"

    def model_file(self, name: str) -> Path:
        return self.models_dir / f"{name}{MODEL_SUFFIX}"

    def job_directory(self, job_id: int, runner: str | None) -> Path:
        return self.jobs_root / job_directory_name(job_id, runner)

    def new_staging(self) -> Path:
        """An empty directory to copy a job's training files into before the job has an id."""
        self.jobs_root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="staging-", dir=self.jobs_root))

    def model_files(self) -> list[Path]:
        """Every model file, newest first."""
        return sorted(
            (p for p in self.models_dir.glob(f"*{MODEL_SUFFIX}") if p.is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )

    def training_texts(self, name: str) -> set[str] | None:
        """The NLU examples model ``name`` was trained on, when known: from the copy kept when a job
        published it, or the repository's when the name is the fingerprint of nlu/."""
        snapshot = self.sources_root / name / "data"
        if snapshot.is_dir():
            return set(nlu_examples(snapshot))
        if name == model_name(fingerprint(self.nlu_dir)):
            return set(nlu_examples(self.nlu_dir / "data"))
        return None

    def publish(self, directory: Path, name: str, *, reused: bool) -> bool:
        """Move a job's model (unless it reused one already there) and its training files out of its
        work directory ``directory``, then remove that directory. Returns whether a model was moved."""
        target = self.model_file(name)
        snapshot = self.sources_root / name
        moved = False
        if not reused:
            os.replace(directory / "out" / f"{name}{MODEL_SUFFIX}", target)
            moved = True
        self.sources_root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(snapshot, ignore_errors=True)
        (directory / "source").rename(snapshot)
        shutil.rmtree(directory, ignore_errors=True)  # all it held worth keeping is moved out
        return moved

    def remove_work_directories(self, finished: set[str]) -> None:
        """Remove the work directories named in ``finished`` and staging directories left over."""
        if self.jobs_root.is_dir():
            for directory in self.jobs_root.iterdir():
                stale_staging = (
                    directory.name.startswith("staging-")
                    and time.time() - directory.stat().st_mtime > STAGING_MAX_AGE_SECONDS
                )
                if directory.name in finished or stale_staging:
                    shutil.rmtree(directory, ignore_errors=True)
