"""The worker thread that runs training jobs one at a time from a queue: it holds the job being run (so
a cancel or the app's stop can terminate it), turns a job's early stop into the row's final state,
removes the job's work directory whatever happened, and on shutdown fails the running and queued jobs.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading

from bot.modelops.jobs import JobRows
from bot.modelops.runs import Cancelled, Failed, Run
from bot.modelops.store import ModelStore
from bot.modelops.training import Trainer

__all__ = ["TrainingWorker"]

logger = logging.getLogger(__name__)


class TrainingWorker:
    """One thread, started with the first job, running the queued jobs of ``runner`` with ``trainer``.
    ``lock`` is the manager's lock guarding the running job's process and cancel flag."""

    def __init__(
        self, rows: JobRows, store: ModelStore, trainer: Trainer, *, runner: str, lock: threading.Lock
    ) -> None:
        self._rows = rows
        self._store = store
        self._trainer = trainer
        self._runner = runner
        self._lock = lock
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._current: Run | None = None
        self.closed = False

    def submit(self, job_id: int) -> None:
        self._ensure_thread()
        self._queue.put(job_id)

    def stop(self, job_id: int) -> None:
        """Stop job ``job_id`` if it is the one running; the caller holds the lock."""
        run = self._current
        if run is not None and run.job_id == job_id:
            run.stop()

    def shutdown(self, timeout: float) -> None:
        """Stop the worker: the running job is stopped and marked failed, queued ones too."""
        self.closed = True
        with self._lock:
            run = self._current
            if run is not None:
                run.stop()
        while True:
            try:
                job_id = self._queue.get_nowait()
            except queue.Empty:
                break
            if job_id is not None:
                self._rows.fail(job_id, "the app stopped before the job ran", stage="not started")
        if run is not None:
            self._rows.fail(run.job_id, "the app stopped during the job; no model was published", stage="interrupted")
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="tagih-training", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self.closed:
                return
            try:
                self._run(job_id)
            except Exception:  # the outer boundary of the worker: log, keep serving jobs
                logger.exception("training job %s crashed", job_id)

    def _run(self, job_id: int) -> None:
        name = self._rows.model_name(job_id)
        directory = self._store.job_directory(job_id, self._runner)
        if name is None:
            shutil.rmtree(directory, ignore_errors=True)
            return
        run = Run(job_id=job_id, directory=directory, model_name=name)
        with self._lock:
            self._current = run
        error: str | None = None
        try:
            self._trainer.run(run)
        except Cancelled:
            logger.info("training job %s cancelled", job_id)
        except Failed as exc:
            error = str(exc)
        except Exception as exc:
            logger.exception("training job %s failed", job_id)
            error = f"internal error: {exc!r}"
        finally:
            with self._lock:
                self._current = None
            shutil.rmtree(directory, ignore_errors=True)
        # A job reads as finished only once its work files are gone (success removes them in publish).
        if error is not None:
            self._rows.fail(job_id, error, log_tail=run.log_tail())
