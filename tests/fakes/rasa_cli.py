"""A stand-in for the ``rasa`` command line, for training-job tests that must not need TensorFlow.

It prints what Rasa 3.6 prints (component names, ``Epochs: NN%`` bars, library noise) and writes the
files Rasa writes. Environment knobs (read at run time, so ``monkeypatch.setenv`` works):

- ``FAKE_RASA_LOG``: append each command line to this file.
- ``FAKE_RASA_HOLD``: ``rasa train`` stops at 40% until this file exists.
- ``FAKE_RASA_CHILD``: ``rasa train`` starts a child process and writes its pid here.
- ``FAKE_RASA_TRAIN_EXIT``: exit code of ``rasa train`` (after writing half a model).
- ``FAKE_RASA_MISTAKE``: examples containing this word are predicted as ``deny``.

Training data containing the word ``INVALID`` fails ``rasa data validate``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml


def _option(args: list[str], name: str, default: str | None = None) -> str | None:
    return args[args.index(name) + 1] if name in args else default


def _examples(path: Path) -> list[tuple[str, str]]:
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    found = []
    for file in files:
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu") or [] if isinstance(document, dict) else []:
            if isinstance(item, dict) and "intent" in item:
                for line in str(item.get("examples", "")).splitlines():
                    if line.strip().startswith("- "):
                        found.append((item["intent"], line.strip()[2:]))
    return found


def _write_nlu(path: Path, examples: list[tuple[str, str]]) -> None:
    by_intent: dict[str, list[str]] = {}
    for intent, text in examples:
        by_intent.setdefault(intent, []).append(text)
    document = {
        "version": "3.1",
        "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in by_intent.items()],
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _noise() -> None:
    print("/venv/lib/python3.10/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call")
    print("  declare_namespace(pkg)")


def _train(args: list[str], nlu_only: bool) -> int:
    out = Path(_option(args, "--out", "models") or "models")
    name = _option(args, "--fixed-model-name", "model")
    out.mkdir(parents=True, exist_ok=True)
    _noise()
    child_file = os.environ.get("FAKE_RASA_CHILD")
    if child_file and not nlu_only:
        child = subprocess.Popen(["sleep", "300"])
        Path(child_file).write_text(str(child.pid))
    print("2026-11-23 13:34:26 INFO     rasa.engine.training.hooks  - Starting to train component 'RegexFeaturizer'.")
    print("2026-11-23 13:34:29 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.")
    hold = os.environ.get("FAKE_RASA_HOLD")
    for percent in (0, 20, 40, 60, 80, 100):
        print(f"Epochs:  {percent}%|##        | {percent // 20}/5 [00:13<00:53, 13.34s/it]", flush=True)
        if percent == 40 and hold and not nlu_only:
            while not Path(hold).exists():
                time.sleep(0.05)
    print("2026-11-23 13:35:04 INFO     rasa.engine.training.hooks  - Starting to train component 'RulePolicy'.")
    exit_code = 0 if nlu_only else int(os.environ.get("FAKE_RASA_TRAIN_EXIT", "0"))
    model = out / f"{name}.tar.gz"
    model.write_bytes(b"half a model")
    if exit_code:
        print("tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM", flush=True)
        return exit_code
    model.write_bytes(b"a fake model " * 100)
    print(f"Your Rasa model is trained and saved at '{model}'.")
    return 0


def main(args: list[str]) -> int:
    log = os.environ.get("FAKE_RASA_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(" ".join(args) + "\n")
    if args[:2] == ["data", "validate"]:
        _noise()
        data = Path(_option(args, "--data", "data") or "data")
        print("2026-11-23 13:34:21 INFO     rasa.validator  - Validating intents...")
        print(
            "/venv/lib/python3.10/site-packages/rasa/shared/utils/io.py:100: UserWarning: "
            "The utterance 'utter_x' is not used in any story or rule."
        )
        for file in sorted(data.rglob("*.yml")):
            if "INVALID" in file.read_text(encoding="utf-8"):
                print(f"YamlSyntaxException: Failed to read '{file}'. while parsing a block mapping")
                return 1
        return 0
    if args[:3] == ["data", "split", "nlu"]:
        examples = _examples(Path(_option(args, "--nlu", "data") or "data"))
        out = Path(_option(args, "--out", "train_test_split") or "train_test_split")
        out.mkdir(parents=True, exist_ok=True)
        _write_nlu(out / "training_data.yml", [e for i, e in enumerate(examples) if i % 5])
        _write_nlu(out / "test_data.yml", [e for i, e in enumerate(examples) if not i % 5])
        return 0
    if args[:2] == ["train", "nlu"]:
        return _train(args, nlu_only=True)
    if args[:1] == ["train"]:
        return _train(args, nlu_only=False)
    if args[:2] == ["test", "nlu"]:
        model = Path(_option(args, "--model") or "")
        if not model.is_file():
            print(f"No model found at {model}")
            return 1
        mistake = os.environ.get("FAKE_RASA_MISTAKE", "\0")
        out = Path(_option(args, "--out", "results") or "results")
        out.mkdir(parents=True, exist_ok=True)
        successes: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for intent, text in _examples(Path(_option(args, "--nlu") or "")):
            predicted = "deny" if mistake in text else intent
            row = {"text": text, "intent": intent, "intent_prediction": {"name": predicted, "confidence": 0.9}}
            (successes if predicted == intent else errors).append(row)
        (out / "intent_successes.json").write_text(json.dumps(successes))
        (out / "intent_errors.json").write_text(json.dumps(errors))
        return 0
    print(f"fake rasa: unsupported command {args}", file=sys.stderr)
    return 2


def install(directory: Path) -> Path:
    """An executable ``rasa`` in ``directory`` that runs this module with the test interpreter."""
    script = directory / "rasa"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    script.chmod(0o755)
    return script


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
