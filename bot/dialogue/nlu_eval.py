"""Measures the current model on an external evaluation set: intent F1, precision of the intents that
stop collection, confident mistakes and calibration (expected calibration error, reliability table).

Measurement only: ``make test`` and ``make nlu-eval`` print the numbers and never fail on them. The
evaluation set is written by third parties and must never be copied into training data.

The set is labelled with the intents DESIGN.md requires. Intents this model has beyond those are
finer cases of one of them (a complaint about a collector's conduct is, at that level, a dispute of
how the debt is collected); ``PARENT`` says which, and predictions are scored at the set's level.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bot.dialogue.intent_metrics import (
    Prediction,
    confident_errors,
    expected_calibration_error,
    read_predictions,
    reliability,
    score,
)
from bot.dialogue.model import NLU_DIR, current_model, rasa_env
from bot.settings import PROJECT_ROOT, get_settings

# Finer intents of this model -> the required intent the external set would label them with.
PARENT: dict[str, str] = {
    "complain_conduct": "dispute_debt",
    "distress": "cannot_pay",
    "ask_if_bot": "out_of_scope",
    "request_discount": "request_installment",
    "ask_new_loan": "out_of_scope",
    "third_party": "out_of_scope",
    "insult": "out_of_scope",
}
STOPPING_INTENTS = ("dispute_debt", "stop_contact")  # they stop collection or contact: precision first
TARGETS = {"macro_f1": 0.85, "min_f1": 0.75, "confident_error_share": 0.05, "stopping_precision": 0.95}


def our_intents() -> set[str]:
    with (NLU_DIR / "domain.yml").open(encoding="utf-8") as handle:
        return set(yaml.safe_load(handle)["intents"])


def at_set_level(predictions: list[Prediction], parents: dict[str, str]) -> list[Prediction]:
    return [Prediction(p.text, p.intent, parents.get(p.predicted, p.predicted), p.confidence) for p in predictions]


def report(predictions: list[Prediction], labels: set[str], parents: dict[str, str] | None = None) -> dict:
    """Scores over the messages whose label is in ``labels``, predictions of a finer intent counted as
    its parent (``PARENT`` for the external set; none for our own data)."""
    mapped = at_set_level(predictions, PARENT if parents is None else parents)
    scored = [p for p in mapped if p.intent in labels]
    result = score(scored, top=15)
    f1s = {name: values["f1"] for name, values in result["intents"].items()}
    result["min_f1"] = min(f1s.values()) if f1s else None
    result["confident_errors"] = confident_errors(scored)
    result["confident_error_share"] = round(result["confident_errors"] / len(scored), 4) if scored else None
    result["ece"] = expected_calibration_error(scored)
    result["reliability"] = reliability(scored)
    result["stopping_precision"] = {
        name: result["intents"][name]["precision"] for name in STOPPING_INTENTS if name in result["intents"]
    }
    return result


def with_thresholds(predictions: list[Prediction], threshold: float, strict: dict[str, float]) -> list[Prediction]:
    """The predictions a model would make with another fallback threshold and per-intent bars (a turn
    below its bar becomes ``nlu_fallback``), for choosing them on the development split."""
    out = []
    for p in predictions:
        bar = max(threshold, strict.get(p.predicted, 0.0))
        out.append(p if p.confidence >= bar else Prediction(p.text, p.intent, "nlu_fallback", p.confidence))
    return out


def sweep(
    predictions: list[Prediction], labels: set[str], parents: dict[str, str] | None, strict: dict[str, float]
) -> None:
    """Macro-F1, confident mistakes, fallbacks and the stopping intents' precision per threshold."""
    print("  threshold sweep (threshold: macro-F1, fallbacks, mistakes >= 0.9, precision of stopping intents):")
    for threshold in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        result = report(with_thresholds(predictions, threshold, strict), labels, parents)
        fallbacks = sum(1 for p in predictions if p.confidence < max(threshold, strict.get(p.predicted, 0.0)))
        precision = ", ".join(f"{k} {v:.3f}" for k, v in result["stopping_precision"].items())
        print(
            f"    {threshold:.2f}: {result['macro_f1']:.3f}, {fallbacks} fallbacks, "
            f"{result['confident_errors']} confident mistakes, {precision}"
        )


def _mark(ok: bool) -> str:
    return "ok" if ok else "below target"


def print_report(result: dict, name: str) -> None:
    print(
        f"NLU external evaluation ({name}, {result['examples']} messages): intent macro-F1 = {result['macro_f1']:.3f} "
        f"(target {TARGETS['macro_f1']}: {_mark(result['macro_f1'] >= TARGETS['macro_f1'])}), "
        f"accuracy {result['accuracy']:.3f}"
    )
    print(
        f"  lowest intent F1 {result['min_f1']:.3f} (target {TARGETS['min_f1']}: "
        f"{_mark(result['min_f1'] >= TARGETS['min_f1'])})"
    )
    share = result["confident_error_share"]
    print(
        f"  mistakes with confidence >= 0.9: {result['confident_errors']} = {share:.1%} of the set "
        f"(target at most {TARGETS['confident_error_share']:.0%}: {_mark(share <= TARGETS['confident_error_share'])})"
    )
    for intent, precision in result["stopping_precision"].items():
        print(
            f"  precision {intent}: {precision:.3f} (target {TARGETS['stopping_precision']}: "
            f"{_mark(precision >= TARGETS['stopping_precision'])})"
        )
    print(
        f"  expected calibration error {result['ece']:.3f}; "
        "reliability (confidence bin: count, mean confidence, accuracy):"
    )
    for row in result["reliability"]:
        if row["count"]:
            print(
                f"    [{row['from']:.2f}, {row['to']:.2f}): {row['count']:>4}  conf {row['confidence']:.3f}  "
                f"acc {row['accuracy']:.3f}"
            )
    print("  per intent (precision / recall / F1, support):")
    for intent, values in result["intents"].items():
        print(
            f"    {intent:<22} {values['precision']:.3f} / {values['recall']:.3f} / {values['f1']:.3f}  "
            f"({values['support']})"
        )
    if result["confused"]:
        print("  most confused (label -> predicted: count):")
        for row in result["confused"][:10]:
            print(f"    {row['intent']} -> {row['predicted']}: {row['count']}")


def run_rasa_test(model: Path, data: Path, out: Path) -> bool:
    settings = get_settings()
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.rasa_bin),
        "test",
        "nlu",
        "--model",
        str(model),
        "--nlu",
        str(data.resolve()),
        "--out",
        str(out),
        "--successes",
        "--no-plot",
    ]
    result = subprocess.run(command, cwd=NLU_DIR, env=rasa_env(), capture_output=True, text=True)
    if result.returncode != 0 or not (out / "intent_report.json").exists():
        sys.stderr.write(result.stderr[-3000:])
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    eval_set = Path(argv[0]) if argv else PROJECT_ROOT.parent / "shared" / "eval" / "nlu_external.yml"
    if not eval_set.exists():
        print(f"NLU external evaluation: skipped ({eval_set} not found)")
        return 0
    model = current_model(get_settings().models_dir)
    if model is None:
        print("error: no model for the current training data; run 'tagih train'", file=sys.stderr)
        return 1
    out = PROJECT_ROOT / "results" / "nlu_external"
    if not run_rasa_test(model, eval_set, out):
        print("NLU external evaluation: could not run (see above)")
        return 0
    labels = our_intents() - set(PARENT)
    result = report(read_predictions(out), labels)
    (out / "summary.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print_report(result, eval_set.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
