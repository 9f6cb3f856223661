"""Runs ``rasa run`` as a child process with the app as its action server.

Nothing on the Rasa port answers without ``rasa_token``: the HTTP API checks it (``--auth-token``)
and the only input channel is the token-checked one in ``nlu/connectors``. The token reaches the
child through its environment only (readable by its owner alone): Rasa takes ``--auth-token`` only as
an argument, which any local user could read with ``ps``, so a two-line launcher adds it to Rasa's
own argument list inside the child instead of to the command line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from bot.dialogue.model import NLU_DIR, rasa_env

# Runs ``rasa`` with ``--auth-token`` taken from the environment, so it never shows in ``ps``.
_LAUNCHER = (
    "import os, sys\n"
    "from rasa.__main__ import main\n"
    "sys.argv = ['rasa', *sys.argv[1:], '--auth-token', os.environ['TAGIH_RASA_TOKEN']]\n"
    "sys.exit(main())\n"
)


class RasaServerError(RuntimeError):
    pass


class RasaServer:
    def __init__(
        self,
        *,
        rasa_bin: Path,
        model: Path,
        port: int,
        action_url: str,
        action_token: str,
        rasa_token: str,
        tracker_db: Path,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
    ) -> None:
        self.rasa_bin = rasa_bin
        self.model = model
        self.port = port
        self.host = host
        self.action_url = action_url
        self.action_token = action_token
        self.rasa_token = rasa_token
        self.tracker_db = tracker_db
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        """The child's argument list (no secret in it: see the module docstring)."""
        return [
            str(self.rasa_bin.parent / "python"),
            "-c",
            _LAUNCHER,
            "run",
            "--enable-api",
            "--model",
            str(self.model),
            "--endpoints",
            str(NLU_DIR / "endpoints.yml"),
            "--credentials",
            str(NLU_DIR / "credentials.yml"),
            "--interface",
            self.host,
            "--port",
            str(self.port),
        ]

    def start(self) -> None:
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        env = rasa_env(
            TAGIH_ACTION_ENDPOINT_URL=self.action_url,
            TAGIH_NLG_URL=self.action_url.rsplit("/", 1)[0] + "/nlg",
            TAGIH_ACTION_TOKEN=self.action_token,
            TAGIH_RASA_TOKEN=self.rasa_token,
            TAGIH_RASA_TRACKER_DIALECT=os.environ.get("TAGIH_RASA_TRACKER_DIALECT", "sqlite"),
            TAGIH_RASA_TRACKER_HOST=os.environ.get("TAGIH_RASA_TRACKER_HOST", ""),
            TAGIH_RASA_TRACKER_DB=str(self.tracker_db),
        )
        command = self.command()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=NLU_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Rasa needs tens of seconds to load a model; ready means a model is loaded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RasaServerError(
                    f"rasa run exited with code {self.process.returncode}"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                response = httpx.get(f"{self.url}/status", params={"token": self.rasa_token}, timeout=2)
                if response.status_code == 200 and response.json().get("model_file"):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RasaServerError(f"Rasa server did not become ready within {timeout:.0f}s")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
