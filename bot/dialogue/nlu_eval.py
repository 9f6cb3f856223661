"""Measures intent macro-F1 of the current model on an external evaluation set.

Measurement only: ``make test`` prints the numbers and never fails on them. The evaluation set
is written by third parties and must never be copied into training data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bot.dialogue.model import NLU_DIR, current_model, rasa_env
from bot.settings import PROJECT_ROOT, get_settings


def our_intents() -> set[str]:
    with (NLU_DIR / "domain.yml").open(encoding="utf-8") as handle:
        return set(yaml.safe_load(handle)["intents"])


def summarise(report: dict, intents: set[str]) -> tuple[float, dict[str, float], int]:
    """Macro-F1 over the intents that both the set and our domain know."""
    per_intent = {
        name: values["f1-score"]
        for name, values in report.items()
        if isinstance(values, dict) and name in intents and values.get("support", 0) > 0
    }
    support = sum(int(report[name]["support"]) for name in per_intent)
    macro = sum(per_intent.values()) / len(per_intent) if per_intent else 0.0
    return macro, per_intent, support


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    eval_set = Path(argv[0]) if argv else PROJECT_ROOT.parent / "shared" / "eval" / "nlu_external.yml"
    if not eval_set.exists():
        print(f"NLU external evaluation: skipped ({eval_set} not found)")
        return 0
    settings = get_settings()
    model = current_model(settings.models_dir)
    if model is None:
        print("error: no model for the current training data; run 'tagih train'", file=sys.stderr)
        return 1
    out = PROJECT_ROOT / "results" / "nlu_external"
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.rasa_bin),
        "test",
        "nlu",
        "--model",
        str(model),
        "--nlu",
        str(eval_set.resolve()),
        "--out",
        str(out),
        "--no-plot",
    ]
    env = rasa_env()
    result = subprocess.run(command, cwd=NLU_DIR, env=env, capture_output=True, text=True)
    report_file = out / "intent_report.json"
    if result.returncode != 0 or not report_file.exists():
        sys.stderr.write(result.stderr[-3000:])
        print("NLU external evaluation: could not run (see above)")
        return 0
    report = json.loads(report_file.read_text(encoding="utf-8"))
    macro, per_intent, support = summarise(report, our_intents())
    print(f"NLU external evaluation ({eval_set.name}, {support} messages): intent macro-F1 = {macro:.3f}")
    for name in sorted(per_intent):
        print(f"  {name:<22} F1 {per_intent[name]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
