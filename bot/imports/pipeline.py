"""The steps every bulk import shares; what a row means is the importing service's business."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import InvalidInputError, Problem

CHUNK = 500  # keys per IN (...) lookup; far below SQLite's bound-parameter limit
Records = list[tuple[int, dict[str, str]]]  # each row with the physical line it starts on (header = 1)
T = TypeVar("T")


class ImportValidationError(InvalidInputError):
    """The input is invalid and nothing was written; ``problems`` says where (line, column) and why."""

    code = "invalid_import"

    def __init__(self, errors: Sequence[Problem]) -> None:
        first = f"; first: {errors[0]}" if errors else ""
        super().__init__(errors, f"{len(errors)} error(s) in the import{first}")

    @property
    def errors(self) -> list[Problem]:
        return self.problems


def read_csv(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()) -> tuple[Records, list[Problem]]:
    """The rows of a CSV file with the physical line each starts on, plus the rows that could not be
    split into the header's fields. A file that is empty, not UTF-8, not CSV, or whose header misses
    a required column, names an unknown one or repeats one raises ``ImportValidationError``."""
    known = (*required, *optional)
    records: Records = []
    errors: list[Problem] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header_row = next(reader, None)
            if header_row is None:
                raise ImportValidationError([Problem(1, "header", "the file is empty")])
            header = [h.strip().lower() for h in header_row]
            file_errors = [Problem(1, c, "missing required column") for c in required if c not in header]
            file_errors += [Problem(1, h or "(blank)", "unknown column") for h in header if h not in known]
            file_errors += [
                Problem(1, h, "column appears more than once") for h in sorted(set(header)) if header.count(h) > 1
            ]
            if file_errors:
                raise ImportValidationError(file_errors)
            previous_end = reader.line_num
            for cells in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                if not any(c.strip() for c in cells):
                    continue  # blank lines are not rows
                if len(cells) != len(header):
                    errors.append(Problem(line, "row", f"expected {len(header)} fields, found {len(cells)}"))
                    continue
                records.append((line, dict(zip(header, cells, strict=True))))
    except UnicodeDecodeError as exc:
        raise ImportValidationError([Problem(1, "file", f"not UTF-8 text: {exc.reason}")]) from exc
    except csv.Error as exc:
        raise ImportValidationError([Problem(1, "file", f"not a readable CSV file: {exc}")]) from exc
    return records, errors


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refuse_or_skip(errors: Sequence[Problem], *, skip_invalid: bool) -> set[int]:
    """All or nothing unless the caller chose to skip bad rows: raises ``ImportValidationError``
    when anything is wrong and ``skip_invalid`` is false; else returns the lines to leave out."""
    if errors and not skip_invalid:
        raise ImportValidationError(list(errors))
    return {e.line for e in errors if e.line is not None}


def problem_dicts(errors: Sequence[Problem]) -> list[dict[str, Any]]:
    """The problems of an import report, as its JSON and the CLI show them."""
    return [{"line": e.line, "field": e.field, "message": e.message} for e in errors]
