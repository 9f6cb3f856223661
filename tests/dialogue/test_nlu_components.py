"""The project's own Rasa NLU components, as far as they are plain Python: chat spelling read as
standard words, and blending two classifiers' intent rankings."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from bot.dialogue.model import NLU_DIR


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tagih_nlu.{name}", NLU_DIR / "tagih_nlu" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spelling = _module("chat_spelling")
blending = _module("blend")


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("udh", "sudah"),
        ("Udh", "sudah"),
        ("gk", "tidak"),
        ("GAK", "tidak"),
        ("blm", "belum"),
        ("bsk", "besok"),
        ("besokkk", "besok"),
        ("bsokkk", "besok"),
        ("tf", "transfer"),
        ("500rb", "500ribu"),
        ("1,5jt", "1,5juta"),
        ("telpon2", "telepon"),
        ("pleaseee", "please"),
        ("pls", "please"),
        ("tagihan", "tagihan"),  # a standard word stays
        ("TGH-10001", "tgh-10001"),  # unknown tokens are only lower-cased
        ("2026", "2026"),
    ],
)
def test_chat_spelling_reads_as_standard_words(typed: str, standard: str) -> None:
    assert spelling.normalise_token(typed) == standard


def test_the_lexicon_maps_to_words_not_back_to_chat_forms() -> None:
    lexicon = spelling.LEXICON
    assert all(value == key or value not in lexicon or lexicon[value] == value for key, value in lexicon.items())


def test_blending_keeps_agreement_confident_and_lowers_disagreement() -> None:
    diet = [{"name": "dispute_debt", "confidence": 0.97}, {"name": "deny", "confidence": 0.03}]
    agreeing = [{"name": "dispute_debt", "confidence": 0.8}, {"name": "deny", "confidence": 0.2}]
    disagreeing = [{"name": "deny", "confidence": 0.7}, {"name": "dispute_debt", "confidence": 0.3}]
    agreed = blending.blend(diet, agreeing, 0.5)
    assert agreed[0]["name"] == "dispute_debt" and agreed[0]["confidence"] == pytest.approx(0.885)
    doubted = blending.blend(diet, disagreeing, 0.5)
    assert doubted[0]["name"] == "dispute_debt" and doubted[0]["confidence"] == pytest.approx(0.635)
    assert doubted[1] == {"name": "deny", "confidence": pytest.approx(0.365)}
    assert sum(entry["confidence"] for entry in doubted) == pytest.approx(1.0)


def test_blending_counts_an_intent_one_ranking_lacks_as_zero() -> None:
    blended = blending.blend([{"name": "greet", "confidence": 1.0}], [{"name": "goodbye", "confidence": 1.0}], 0.6)
    assert blended == [{"name": "greet", "confidence": 0.6}, {"name": "goodbye", "confidence": pytest.approx(0.4)}]


def test_an_unsure_guess_at_an_intent_that_stops_collection_becomes_a_question() -> None:
    strict = {"dispute_debt": 0.8, "stop_contact": 0.8}
    unsure = [{"name": "dispute_debt", "confidence": 0.62}, {"name": "deny", "confidence": 0.3}]
    held = blending.hold_back(unsure, strict)
    assert held[0] == {"name": "nlu_fallback", "confidence": 0.62} and held[1:] == unsure
    sure = [{"name": "stop_contact", "confidence": 0.91}, {"name": "deny", "confidence": 0.05}]
    assert blending.hold_back(sure, strict) == sure
    other = [{"name": "greet", "confidence": 0.3}]
    assert blending.hold_back(other, strict) == other
