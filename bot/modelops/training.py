"""The steps of one training job, in order: claim the queued row, ``rasa data validate``, ``rasa train``
(or reuse the model already trained from the same inputs, as a model is named after the fingerprint
of its training inputs), the held-out evaluation, then publish the model into ``models_dir`` unless
the job was cancelled meanwhile.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from bot.dialogue.training import config_components
from bot.modelops.evaluation import evaluate
from bot.modelops.jobs import ACTIVE_STATUSES, JobRows
from bot.modelops.runs import Cancelled, Commands, Failed, Run
from bot.modelops.store import MODEL_SUFFIX, ModelStore

__all__ = ["TRAIN_BAND", "VALIDATE_BAND", "VALIDATION_CHARS", "Trainer"]

VALIDATION_CHARS = 20000
_ERROR_LINE = re.compile(r"Exception|Error|ERROR|error:")

# Share of the whole job's progress bar each step takes (start, end); evaluation takes the rest.
VALIDATE_BAND = (0, 5)
TRAIN_BAND = (5, 55)


class Trainer:
    """Runs the steps of a job for ``runner``. ``lock`` is the manager's lock (publishing holds it);
    ``active_model`` names the model in service, for the evaluation's comparison."""

    def __init__(
        self,
        rows: JobRows,
        store: ModelStore,
        commands: Commands,
        *,
        runner: str,
        lock: threading.Lock,
        active_model: Callable[[], str | None],
    ) -> None:
        self._rows = rows
        self._store = store
        self._commands = commands
        self._runner = runner
        self._lock = lock
        self._active_model = active_model

    def run(self, run: Run) -> None:
        """All the steps; raises :class:`Cancelled` or :class:`Failed` when the job stops early. A job
        no longer queued (cancelled before it started) is left alone."""
        if self._rows.claim(run.job_id, self._runner):
            self._validate(run)
            self._train(run)
            evaluation = evaluate(self._commands, run, self._store, self._active_model)
            self._publish(run, evaluation)

    def _validate(self, run: Run) -> None:
        output: list[str] = []
        code = self._commands.command(
            run,
            ["data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
            cwd=run.source,
            band=VALIDATE_BAND,
            stage="validating the training data",
            output=output,
        )
        text = "\n".join(output)[-VALIDATION_CHARS:]
        self._commands.save(run, force=True, validation_output=text)
        if code != 0:
            errors = [line.strip() for line in output if _ERROR_LINE.search(line) and "Warning: " not in line]
            reason = errors[0] if errors else (output[-1].strip() if output else f"exit code {code}")
            raise Failed(f"the training data is invalid: {reason[:500]}")

    def _train(self, run: Run) -> None:
        self._commands.save(run, force=True, status="training", stage="training", progress=TRAIN_BAND[0])
        if self._store.model_file(run.model_name).exists():
            run.reused = True
            run.log.append(f"{run.model_name} already exists (same training files and configuration): reusing it")
            self._commands.save(run, force=True, stage="reusing the model trained earlier", progress=TRAIN_BAND[1])
            return
        out = run.directory / "out"
        code = self._commands.command(
            run,
            [
                "train",
                "--skip-validation",
                "--config",
                "config.yml",
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(out),
                "--fixed-model-name",
                run.model_name,
            ],
            cwd=run.source,
            band=TRAIN_BAND,
            stage="training",
            components=config_components(run.source / "config.yml"),
        )
        if code != 0:
            raise Failed(f"rasa train failed with exit code {code}; see the log")
        if not (out / f"{run.model_name}{MODEL_SUFFIX}").is_file():
            raise Failed("rasa train finished without writing a model")

    def _publish(self, run: Run, evaluation: dict[str, Any]) -> None:
        with self._lock:
            if run.cancelled.is_set():
                raise Cancelled
            if self._rows.status(run.job_id) not in ACTIVE_STATUSES:
                raise Cancelled
            moved = self._store.publish(run.directory, run.model_name, reused=run.reused)
            if not self._rows.succeed(run.job_id, evaluation=evaluation, log_tail=run.log_tail()):
                # cancelled from another process between the check and now
                if moved:
                    self._store.model_file(run.model_name).unlink(missing_ok=True)
                raise Cancelled
