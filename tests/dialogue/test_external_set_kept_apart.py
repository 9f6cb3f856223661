"""The external evaluation set is for measuring only: no training example is one of its messages or a
near-copy of one (single words such as "ga" or "boleh" are the language itself, not a copy)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
import yaml

from bot.dialogue.model import NLU_DIR
from bot.settings import PROJECT_ROOT

EXTERNAL = PROJECT_ROOT.parent / "shared" / "eval" / "nlu_external.yml"


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def _examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append(_normal(line[2:]))
    return found


@pytest.mark.skipif(not EXTERNAL.exists(), reason=f"{EXTERNAL} is not on this machine")
def test_no_training_example_copies_an_external_message() -> None:
    external = {text for text in _examples(EXTERNAL) if len(text.split()) >= 2}
    training = {text for path in sorted((NLU_DIR / "data").rglob("*.yml")) for text in _examples(path)}
    assert sorted(training & external) == []
    near = {
        text: match[0]
        for text in training
        if len(text) >= 12 and (match := difflib.get_close_matches(text, external, n=1, cutoff=0.9))
    }
    assert near == {}
