"""Running the rasa command line for one training job: each command runs in its own process group (so
a cancel stops all of it), its output feeds the job's log tail and progress bar, and the job's row is
written at most every :data:`SAVE_INTERVAL_SECONDS`; a job no longer active in the database (cancelled
from elsewhere) is stopped.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dialogue.training import BarFilter, TrainingProgress, clean_line, run_rasa, terminate_group
from bot.modelops.jobs import JobRows

__all__ = [
    "LOG_TAIL_CHARS",
    "LOG_TAIL_LINES",
    "SAVE_INTERVAL_SECONDS",
    "Cancelled",
    "Commands",
    "Failed",
    "Run",
]

LOG_TAIL_LINES = 80
LOG_TAIL_CHARS = 8000
SAVE_INTERVAL_SECONDS = 1.0


class Cancelled(Exception):
    """The job was cancelled (or stopped with the app); its row already says so."""


class Failed(Exception):
    """The job failed for a reason people can act on; the message says which."""


@dataclass
class Run:
    """A job being run by the worker thread."""

    job_id: int
    directory: Path
    model_name: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[str] | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    bars: BarFilter = field(default_factory=BarFilter)
    pending: dict[str, Any] = field(default_factory=dict)
    saved_at: float = 0.0
    reused: bool = False
    saving: threading.Lock = field(default_factory=threading.Lock)  # the reader and the flusher both save

    @property
    def source(self) -> Path:
        return self.directory / "source"

    def log_tail(self) -> str:
        return "\n".join(self.log)[-LOG_TAIL_CHARS:]

    def stop(self) -> None:
        """Flag the run cancelled and terminate its Rasa process group, if one runs. The caller holds
        the manager's lock (the one guarding ``process``)."""
        self.cancelled.set()
        if self.process is not None:
            terminate_group(self.process)


class Commands:
    """Runs ``rasa`` commands for jobs and writes their progress to the jobs' rows. ``lock`` is the
    manager's lock guarding each run's process and cancel flag."""

    def __init__(self, rows: JobRows, rasa_bin: Path, lock: threading.Lock) -> None:
        self._rows = rows
        self._rasa_bin = rasa_bin
        self._lock = lock

    def save(self, run: Run, *, force: bool = False, **values: Any) -> None:
        """Write the job's state, at most every :data:`SAVE_INTERVAL_SECONDS` unless ``force``.
        A job no longer active in the database was cancelled from elsewhere: stop it."""
        with run.saving:
            run.pending.update(values)
            if not force and time.monotonic() - run.saved_at < SAVE_INTERVAL_SECONDS:
                return
            values = {**run.pending, "log_tail": run.log_tail()}
            run.pending.clear()
            run.saved_at = time.monotonic()
            written = self._rows.save(run.job_id, values)
        if not written:
            with self._lock:
                run.stop()

    def command(
        self,
        run: Run,
        args: Sequence[str],
        *,
        cwd: Path,
        band: tuple[int, int],
        stage: str,
        components: list[tuple[str, bool]] | None = None,
        output: list[str] | None = None,
    ) -> int:
        """Run ``rasa <args>`` for ``run``; progress moves through ``band`` of the job's bar."""
        start, end = band
        progress = TrainingProgress(components) if components else None
        self.save(run, force=True, stage=stage[:200], progress=start)
        run.log.append(f"$ rasa {' '.join(args)}")

        def on_line(raw: str) -> None:
            line = clean_line(raw)
            if line is None:
                return
            if output is not None:
                output.append(line)
            if run.bars.keep(line):
                run.log.append(line)
            if progress is not None and progress.feed(line):
                detail = f"{stage}: {progress.component}" if progress.component else stage
                self.save(run, stage=detail[:200], progress=int(start + (end - start) * progress.fraction))

        def on_start(process: subprocess.Popen[str]) -> None:
            with self._lock:
                run.process = process
                if run.cancelled.is_set():
                    terminate_group(process)

        def flush() -> None:  # progress held back by the rate limit, while Rasa prints nothing
            while not finished.wait(SAVE_INTERVAL_SECONDS):
                if run.pending:
                    self.save(run, force=True)

        finished = threading.Event()
        flusher = threading.Thread(target=flush, name=f"tagih-training-{run.job_id}-flush", daemon=True)
        flusher.start()
        try:
            code = run_rasa([str(self._rasa_bin), *args], cwd=cwd, on_line=on_line, on_start=on_start)
        except OSError as exc:
            raise Failed(f"cannot run {self._rasa_bin}: {exc}") from exc
        finally:
            finished.set()
            flusher.join()
            with self._lock:
                run.process = None
        if run.cancelled.is_set():
            raise Cancelled
        self.save(run, force=True, progress=end)
        return code
