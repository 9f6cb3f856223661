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
