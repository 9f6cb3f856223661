"""Debtor segmentation (able/unable x willing/unwilling) from what the conversation shows.

Each signal moves one axis and keeps the other, so a debtor who said they lost their job
(unable) and then agreed to a plan (willing) ends as ``unable_willing``.
"""

from __future__ import annotations

from typing import Literal

Signal = Literal[
    "promised",
    "claimed_paid",
    "agreed_plan",
    "extension",
    "hardship",
    "disputed",
    "refused",
    "stopped_contact",
]

# signal -> (ability, willingness); None keeps the current value of that axis.
_EFFECT: dict[str, tuple[str | None, str | None]] = {
    "promised": ("able", "willing"),
    "claimed_paid": ("able", "willing"),
    "agreed_plan": ("unable", "willing"),
    "extension": (None, "willing"),
    "hardship": ("unable", None),
    "disputed": (None, "unwilling"),
    "refused": (None, "unwilling"),
    "stopped_contact": (None, "unwilling"),
}


def next_segment(current: str | None, signal: Signal) -> str:
    ability, willingness = (current or "able_willing").split("_", 1)
    new_ability, new_willingness = _EFFECT[signal]
    return f"{new_ability or ability}_{new_willingness or willingness}"
