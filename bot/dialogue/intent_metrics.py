"""Intent precision, recall and F1 and the most confused pairs, from ``rasa test nlu`` predictions.

Scored here from the per-message predictions (the ``--successes`` file and the errors file) rather
than read from Rasa's report, so that any subset, such as the test messages a model never saw in
training, is scored exactly the same way.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREDICTION_FILES = ("intent_successes.json", "intent_errors.json")


@dataclass(frozen=True)
class Prediction:
    text: str
    intent: str
    predicted: str
    confidence: float


def read_predictions(out_dir: Path) -> list[Prediction]:
    """The predictions ``rasa test nlu --successes`` wrote into ``out_dir``."""
    predictions: list[Prediction] = []
    for name in PREDICTION_FILES:
        path = out_dir / name
        if not path.exists():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            guess = row.get("intent_prediction") or {}
            predictions.append(
                Prediction(
                    text=str(row.get("text", "")),
                    intent=str(row.get("intent", "")),
                    predicted=str(guess.get("name") or ""),
                    confidence=float(guess.get("confidence") or 0.0),
                )
            )
    return predictions


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(predictions: Sequence[Prediction], *, top: int = 10) -> dict[str, Any]:
    """Per-intent precision/recall/F1 over the intents present in ``predictions``, their macro and
    support-weighted averages, accuracy, and the ``top`` most frequent (intent, predicted) mistakes."""
    support = Counter(p.intent for p in predictions)
    predicted = Counter(p.predicted for p in predictions)
    correct = Counter(p.intent for p in predictions if p.intent == p.predicted)
    intents: dict[str, dict[str, Any]] = {}
    f1s: dict[str, float] = {}
    for name in sorted(support):
        precision = correct[name] / predicted[name] if predicted[name] else 0.0
        recall = correct[name] / support[name]
        f1s[name] = _f1(precision, recall)
        intents[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1s[name], 4),
            "support": support[name],
        }
    total = len(predictions)
    mistakes = Counter((p.intent, p.predicted) for p in predictions if p.intent != p.predicted)
    ranked = sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "examples": total,
        "accuracy": round(sum(correct.values()) / total, 4) if total else None,
        "macro_f1": round(sum(f1s.values()) / len(f1s), 4) if f1s else None,
        "weighted_f1": round(sum(f1s[name] * support[name] for name in f1s) / total, 4) if total else None,
        "intents": intents,
        "confused": [{"intent": intent, "predicted": guess, "count": count} for (intent, guess), count in ranked],
    }


def normalise(text: str) -> str:
    """How example texts are compared between data sets: case and spacing do not matter."""
    return " ".join(text.lower().split())


def seen(predictions: Iterable[Prediction], training_texts: set[str]) -> list[bool]:
    """For each prediction, whether its text was among a model's training examples."""
    return [normalise(p.text) in training_texts for p in predictions]


# -- calibration: is the model's confidence worth anything? --------------------------------------------

RELIABILITY_BINS = (0.0, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0000001)


def reliability(predictions: Sequence[Prediction], bins: Sequence[float] = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Confidence bins against accuracy: a calibrated model is right about as often as it is sure."""
    rows = []
    for low, high in zip(bins, bins[1:], strict=False):
        inside = [p for p in predictions if low <= p.confidence < high]
        if not inside:
            rows.append({"from": low, "to": min(high, 1.0), "count": 0, "confidence": None, "accuracy": None})
            continue
        rows.append(
            {
                "from": low,
                "to": min(high, 1.0),
                "count": len(inside),
                "confidence": round(sum(p.confidence for p in inside) / len(inside), 4),
                "accuracy": round(sum(p.intent == p.predicted for p in inside) / len(inside), 4),
            }
        )
    return rows


def expected_calibration_error(predictions: Sequence[Prediction], bins: Sequence[float] = RELIABILITY_BINS) -> float:
    """The gap between confidence and accuracy, averaged over the bins weighted by their size."""
    total = len(predictions)
    if not total:
        return 0.0
    gap = 0.0
    for row in reliability(predictions, bins):
        if row["count"]:
            gap += row["count"] / total * abs(row["confidence"] - row["accuracy"])
    return round(gap, 4)


def confident_errors(predictions: Sequence[Prediction], threshold: float = 0.9) -> int:
    """Mistakes made with at least ``threshold`` confidence: the ones no fallback can catch."""
    return sum(1 for p in predictions if p.intent != p.predicted and p.confidence >= threshold)
