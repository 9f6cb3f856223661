"""Blending two intent rankings: pure Python, so the app's tests can check it."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence


def blend(first: Sequence[Dict[str, Any]], second: Sequence[Dict[str, Any]], weight: float) -> List[Dict[str, Any]]:
    """``weight`` x the first ranking's confidences + (1 - ``weight``) x the second's, best first.

    Where the two classifiers agree the result stays confident; where they disagree the confidence
    drops, so the fallback threshold catches a guess that only one of them believes in.
    """
    confidence: Dict[str, float] = {}
    for ranking, share in ((first, weight), (second, 1.0 - weight)):
        for entry in ranking:
            name = entry.get("name")
            if name:
                confidence[name] = confidence.get(name, 0.0) + share * float(entry.get("confidence") or 0.0)
    return [
        {"name": name, "confidence": value}
        for name, value in sorted(confidence.items(), key=lambda item: (-item[1], item[0]))
    ]


FALLBACK = "nlu_fallback"


def hold_back(ranking: List[Dict[str, Any]], strict: Dict[str, float]) -> List[Dict[str, Any]]:
    """A ranking whose top intent is one that stops collection or contact (``strict``: intent ->
    least confidence) but falls short of its bar, with ``nlu_fallback`` put on top with the same
    confidence: the dialogue asks rather than acts. Other rankings come back unchanged."""
    if not ranking:
        return ranking
    top = ranking[0]
    bar = strict.get(str(top.get("name")))
    if bar is None or float(top.get("confidence") or 0.0) >= bar:
        return ranking
    return [{"name": FALLBACK, "confidence": float(top.get("confidence") or 0.0)}, *ranking]
