"""Runs the Rasa conversation tests (``nlu/tests``) against the current model.

Called by ``make test``; exits non-zero when any story fails, and prints the failed stories.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.dialogue.model import NLU_DIR, current_model, rasa_env
from bot.settings import PROJECT_ROOT, get_settings


def run_story_tests(model: Path, out_dir: Path) -> int:
    settings = get_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.rasa_bin),
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        str(NLU_DIR / "tests"),
        "--out",
        str(out_dir),
        "--fail-on-prediction-errors",
        "--no-plot",
    ]
    env = rasa_env()
    result = subprocess.run(command, cwd=NLU_DIR, env=env, capture_output=True, text=True)
    failed = out_dir / "failed_test_stories.yml"
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.stderr.write(result.stderr[-4000:])
        if failed.exists():
            sys.stdout.write(failed.read_text(encoding="utf-8"))
        print("Rasa conversation tests: FAILED")
        return 1
    count = sum(f.read_text(encoding="utf-8").count("- story:") for f in (NLU_DIR / "tests").rglob("*.yml"))
    print(f"Rasa conversation tests: {count} passed, 0 failed")
    return 0


def main() -> int:
    settings = get_settings()
    model = current_model(settings.models_dir)
    if model is None:
        print("error: no model for the current training data; run 'tagih train'", file=sys.stderr)
        return 1
    return run_story_tests(model, PROJECT_ROOT / "results" / "stories")


if __name__ == "__main__":
    sys.exit(main())
