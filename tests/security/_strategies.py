"""Hypothesis strategies for hostile JSON: valid requests with parts replaced by wrong types, lone
surrogates, NUL, huge or non-finite numbers and nesting deeper than allowed; arbitrary JSON;
arbitrary bytes; nesting far deeper than the stack. Shared by the route fuzz tests and the channel
adapters' property tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st


def dumps(value: Any) -> bytes:
    """JSON as a hostile client sends it: lone surrogates as ``\\ud800`` escapes, NaN allowed."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


NASTY_TEXT = st.sampled_from(
    ["", " ", "\x00", "\ud800", "halo \udfff", "\u202e", "a" * 5000, "/start", "/start x", "DEMO-1001", "1e20"]
)
TEXT = st.one_of(st.text(max_size=30), NASTY_TEXT)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e20, 10**20, 2**63, 1e308]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)


def _nest(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


VALUES = st.one_of(JSON_VALUES, st.integers(min_value=33, max_value=200).map(_nest))


def _deep_bytes(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


RAW = st.one_of(
    st.binary(max_size=300),
    st.integers(min_value=900, max_value=200_000).map(_deep_bytes),
    st.sampled_from([b"", b"null", b"NaN", b"-Infinity", b"1e999", b"9" * 5000, b'"\\ud800"', b"\xed\xa0\x80", b"{"]),
)


def _containers(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every value inside ``doc`` (not the root)."""
    if isinstance(doc, dict):
        items: Any = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    else:
        return
    for key, value in items:
        yield (*path, key)
        yield from _containers(value, (*path, key))


@st.composite
def mutated(draw: st.DrawFn, templates: st.SearchStrategy[Any]) -> Any:
    """A valid request with one to three of its parts replaced by hostile values, or removed."""
    doc = copy.deepcopy(draw(templates))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_containers(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(VALUES)
    return doc


def bodies(templates: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(templates).map(dumps),
        mutated(templates).map(dumps),  # twice: near-valid bodies reach furthest into the code
        templates.map(dumps),
        JSON_VALUES.map(dumps),
        RAW,
    )
