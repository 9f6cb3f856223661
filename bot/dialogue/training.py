"""Rasa's command line for background training jobs: the training files a job works on, commands
run in their own process group (so a cancel stops Rasa and every child it started), and progress
read from what Rasa prints.

Progress: Rasa logs ``Starting to train component 'X'`` for each component it trains and draws an
``Epochs: NN%|...`` bar for those trained in epochs (DIETClassifier, TEDPolicy, ...). The components
of config.yml, in order, are the steps; one trained in epochs weighs :data:`EPOCH_WEIGHT` plain ones
because it takes nearly all of the time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.intent_metrics import normalise
from bot.dialogue.model import TRAINING_INPUTS, component_files, components_root, rasa_env, training_files
from bot.errors import TagihError

EPOCH_WEIGHT = 10
_EPOCH_COMPONENTS = frozenset({"DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy"})
KILL_GRACE_SECONDS = 10.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Library chatter Rasa's dependencies print on every start; it buries the lines that matter.
_NOISE = re.compile(
    r"DeprecationWarning|declare_namespace|pkg_resources|xla_computation|Implementing implicit namespace"
    r"|declarative_base\(\)|MovedIn20Warning|setParseAction|parseString\(|resetCache\(|^\s*warnings\.warn"
)
_PY_WARNING = re.compile(r"^\S+\.py:\d+: (\w*Warning): (.*)$")
_STARTING = re.compile(r"Starting to train component '([^']+)'")
_EPOCHS = re.compile(r"Epochs:\s+(\d{1,3})%")
_BAR = re.compile(r"^\s*([^:|]*?):?\s*(\d{1,3})%\|")
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


class TrainingSourceError(TagihError):
    """A directory is not a usable set of Rasa training files, or an override does not fit them."""


# ---------------------------------------------------------------------------------------------------
# Training files


def check_training_dir(directory: Path) -> None:
    if not directory.is_dir():
        raise TrainingSourceError(f"{directory} is not a directory")
    missing = [name for name in TRAINING_INPUTS if not (directory / name).exists()]
    if missing:
        raise TrainingSourceError(f"{directory} has no {', '.join(missing)}: not a Rasa project")


def stage_training_files(
    source: Path, target: Path, *, config_override: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Copy the training inputs (the same files the model fingerprint covers) from ``source`` into
    ``target``, so later edits of the source cannot change a job half-way; then apply the override."""
    check_training_dir(source)
    _copy(training_files(source), source, target)
    # the project's NLU components belong to every model (a flow version holds only YAML files)
    _copy(component_files(source), components_root(source), target)
    (target / "data").mkdir(parents=True, exist_ok=True)
    if config_override:
        apply_config_override(target / "config.yml", config_override)


def _copy(paths: list[Path], root: Path, target: Path) -> None:
    for path in paths:
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def _load_config(config_file: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrainingSourceError(f"config.yml cannot be read: {exc}") from exc
    if not isinstance(config, dict):
        raise TrainingSourceError("config.yml is not a mapping")
    return config


def _components(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for section in ("pipeline", "policies"):
        for component in config.get(section) or []:
            if isinstance(component, dict) and isinstance(component.get("name"), str):
                yield component


def apply_config_override(config_file: Path, override: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge ``{"DIETClassifier": {"epochs": 5}}`` into every pipeline or policy entry of that name."""
    config = _load_config(config_file)
    found: set[str] = set()
    for component in _components(config):
        settings = override.get(component["name"])
        if settings is not None:
            component.update(settings)
            found.add(component["name"])
    unknown = sorted(set(override) - found)
    if unknown:
        raise TrainingSourceError(f"config.yml has no component {', '.join(unknown)} to override")
    config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def config_components(config_file: Path) -> list[tuple[str, bool]]:
    """The components config.yml trains, in order, each with whether it trains in epochs."""
    config = _load_config(config_file)
    return [(c["name"], "epochs" in c or c["name"] in _EPOCH_COMPONENTS) for c in _components(config)]


def nlu_examples(path: Path) -> list[str]:
    """Example texts of every ``nlu:`` intent in a file or directory of Rasa YAML, entity
    annotations reduced to their text, normalised for comparison."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")) if path.is_dir() else [path]
    texts: list[str] = []
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        items = document.get("nlu") if isinstance(document, dict) else None
        for item in items or []:
            examples = item.get("examples") if isinstance(item, dict) and "intent" in item else None
            if isinstance(examples, str):
                lines = [line.strip()[2:] for line in examples.splitlines() if line.strip().startswith("- ")]
            elif isinstance(examples, list):
                lines = [str(e.get("text", "")) if isinstance(e, dict) else str(e) for e in examples]
            else:
                continue
            texts.extend(normalise(_ANNOTATION.sub(r"\1", line)) for line in lines if line.strip())
    return texts


# ---------------------------------------------------------------------------------------------------
# Output


def clean_line(line: str) -> str | None:
    """A line of Rasa's output as people should read it, or None for library noise."""
    line = _ANSI.sub("", line).rstrip()
    if not line.strip() or _NOISE.search(line):
        return None
    warning = _PY_WARNING.match(line.strip())
    if warning:
        return f"{warning.group(1)}: {warning.group(2)}"
    return line


class BarFilter:
    """Rasa redraws progress bars many times a second; keep each bar at every 25%."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def keep(self, line: str) -> bool:
        match = _BAR.match(line)
        if match is None:
            return True
        label, step = match.group(1), int(match.group(2)) // 25
        if self._last.get(label) == step:
            return False
        self._last[label] = step
        return True


class TrainingProgress:
    """How far one ``rasa train`` has got, from its output lines (see the module docstring)."""

    def __init__(self, components: Sequence[tuple[str, bool]]) -> None:
        self._names = [name for name, _ in components]
        self._weights = [EPOCH_WEIGHT if epochs else 1 for _, epochs in components]
        self._index = -1
        self._epochs = 0.0
        self.component: str | None = None

    def feed(self, line: str) -> bool:
        """Read one line; True when the progress or the component changed."""
        started = _STARTING.search(line)
        if started:
            name = started.group(1)
            self.component = name
            for index in range(self._index + 1, len(self._names)):
                if self._names[index] == name:
                    self._index, self._epochs = index, 0.0
                    break
            return True
        epochs = _EPOCHS.search(line)
        if epochs and self._index >= 0:
            fraction = min(int(epochs.group(1)), 100) / 100
            changed = fraction != self._epochs
            self._epochs = fraction
            return changed
        return False

    @property
    def fraction(self) -> float:
        if self._index < 0 or not self._weights:
            return 0.0
        done = sum(self._weights[: self._index]) + self._weights[self._index] * self._epochs
        return min(done / sum(self._weights), 1.0)


# ---------------------------------------------------------------------------------------------------
# Processes


def run_rasa(
    command: Sequence[str],
    *,
    cwd: Path,
    on_line: Callable[[str], None],
    on_start: Callable[[subprocess.Popen[str]], None] = lambda _: None,
) -> int:
    """Run a rasa command in a new process group, feed each output line to ``on_line``, return the
    exit code. Rasa's training cache is off: jobs work in fresh directories, so it would only fill
    the disk."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=rasa_env(RASA_MAX_CACHE_SIZE="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    try:
        on_start(process)
        assert process.stdout is not None
        for line in process.stdout:  # universal newlines: every redraw of a bar is a line
            on_line(line.rstrip("\n"))
    except BaseException:
        terminate_group(process)
        raise
    finally:
        if process.stdout is not None:
            process.stdout.close()
    return process.wait()


def terminate_group(process: subprocess.Popen[Any], grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM to the process and its children now, SIGKILL after ``grace`` seconds if still alive.
    Returns at once (a timer escalates), so it is safe to call from an event loop."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def kill() -> None:  # the whole group: children outlive a leader that obeyed SIGTERM
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(grace, kill)
    timer.daemon = True
    timer.start()
