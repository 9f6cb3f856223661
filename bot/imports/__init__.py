"""Bulk imports: what every import of many rows shares (a CSV file read with the line each row starts
on, lookups in chunks, the rule that nothing is written while any row is bad unless the caller asked
to skip bad rows, and the problems reported in one shape). Accounts and payments import through it
(``bot.services.accounts``, ``bot.services.payments``)."""

from bot.imports.pipeline import CHUNK, ImportValidationError, Records, chunks, problem_dicts, read_csv, refuse_or_skip

__all__ = ["CHUNK", "ImportValidationError", "Records", "chunks", "problem_dicts", "read_csv", "refuse_or_skip"]
