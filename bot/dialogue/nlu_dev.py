"""Tuning the NLU on our own data: train on a stratified share of ``nlu/data/nlu`` and measure on the
rest (the development split), optionally on the external set too.

The external set is for the final measurement only; choices (pipeline, thresholds, data) are made on
the development split. Usage::

    python -m bot.dialogue.nlu_dev [--config nlu/config.yml] [--fraction 0.8] [--seed 42] [--external]

Prints the same report as ``make nlu-eval`` for each set, with the training time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bot.dialogue.intent_metrics import read_predictions
from bot.dialogue.model import NLU_DIR, rasa_env
from bot.dialogue.nlu_eval import PARENT, our_intents, print_report, report, run_rasa_test, sweep
from bot.settings import PROJECT_ROOT, get_settings

# per-intent bars tried beside the plain threshold (intents that stop collection or contact)
STRICT_TRIAL = {"dispute_debt": 0.8, "stop_contact": 0.8}


def _rasa(*args: str) -> None:
    command = [str(get_settings().rasa_bin), *args]
    result = subprocess.run(command, cwd=NLU_DIR, env=rasa_env(), capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-3000:])
        raise SystemExit(f"rasa {args[0]} {args[1]} failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=NLU_DIR / "config.yml")
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--external", action="store_true", help="also measure on the external set")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "nlu_dev")
    args = parser.parse_args(argv)

    out = args.out.resolve()
    split = out / "split"
    _rasa(
        "data", "split", "nlu", "--nlu", str(NLU_DIR / "data" / "nlu"), "--training-fraction", str(args.fraction),
        "--random-seed", str(args.seed), "--out", str(split),
    )  # fmt: skip
    started = time.monotonic()
    _rasa(
        "train", "nlu", "--config", str(args.config.resolve()), "--nlu", str(split / "training_data.yml"),
        "--out", str(out / "models"), "--fixed-model-name", "dev",
    )  # fmt: skip
    trained = time.monotonic() - started
    model = out / "models" / "dev.tar.gz"
    labels = our_intents() - set(PARENT)
    print(f"NLU development run: {args.config.name}, trained in {trained:.0f} s on {args.fraction:.0%} of nlu/data/nlu")
    sets = [("development split", split / "test_data.yml", out / "dev")]
    if args.external:
        sets.append(("external set", PROJECT_ROOT.parent / "shared" / "eval" / "nlu_external.yml", out / "external"))
    for name, data, result_dir in sets:
        if not run_rasa_test(model, data, result_dir):
            print(f"{name}: could not run (see above)")
            continue
        own = name == "development split"
        scored = report(read_predictions(result_dir), our_intents() if own else labels, {} if own else None)
        print_report(scored, name)
        predictions = read_predictions(result_dir)
        sweep(predictions, our_intents() if own else labels, {} if own else None, {})
        sweep(predictions, our_intents() if own else labels, {} if own else None, STRICT_TRIAL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
