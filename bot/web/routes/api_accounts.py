"""``POST /api/accounts`` and ``GET /api/accounts/{ref}``: a lender's system creates or updates accounts
in bulk (the same validation and debtor matching as the CSV import, all rows or none), and reads one
account with its history (the same JSON as ``tagih accounts show REF --json``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError

from bot.errors import Problem
from bot.imports import ImportValidationError
from bot.schemas.accounts import AccountImportOut, AccountSnapshotOut
from bot.schemas.errors import ErrorOut, RowErrorOut, RowErrorsOut
from bot.services.accounts import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    AccountNotFound,
    account_snapshot,
    import_account_rows,
)
from bot.web.deps import ClockDep, SessionFactoryDep
from bot.web.routes.api_access import ApiActorDep, JsonBodyDep, error_response, json_body_doc

MAX_ACCOUNTS_PER_REQUEST = 10_000

router = APIRouter()


def _account_row_schema() -> dict[str, Any]:
    loose = {"anyOf": [{"type": "string"}, {"type": "number"}]}
    properties: dict[str, Any] = {
        name: (loose if name in ("amount_due", "telegram_chat_id") else {"type": "string"})
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    }
    properties["customer_ref"] = {
        "type": "string",
        "maxLength": 64,
        "description": "The lender's own customer id: rows with the same one are one debtor with several "
        "accounts, and only such a row may change the debtor's name or birth date",
    }
    return {
        "type": "object",
        "description": "One account, keyed by the CSV column names (see the accounts CSV in the README)",
        "properties": properties,
        "required": list(REQUIRED_COLUMNS),
        "additionalProperties": False,
    }


def _row_error(error: Problem) -> dict[str, Any]:
    line = error.line or 0  # import problems always name their line
    return {"row": line, "index": line - 1, "field": error.field, "message": error.message}


def _cell(value: Any) -> Any:
    """JSON numbers with a fraction arrive as Decimals; the account validation reads text."""
    return str(value) if isinstance(value, Decimal) else value


@router.post(
    "/accounts",
    response_model=AccountImportOut,
    summary="Create or update accounts in bulk",
    openapi_extra=json_body_doc(
        {
            "type": "object",
            "required": ["accounts"],
            "additionalProperties": False,
            "properties": {
                "accounts": {
                    "type": "array",
                    "items": _account_row_schema(),
                    "minItems": 1,
                    "maxItems": MAX_ACCOUNTS_PER_REQUEST,
                },
                "skip_invalid": {
                    "type": "boolean",
                    "default": False,
                    "description": "Write the valid rows and report the invalid ones instead of refusing all",
                },
            },
        }
    ),
    responses={
        400: {"model": ErrorOut, "description": "The body is not a JSON object"},
        413: {"model": ErrorOut, "description": f"More than {MAX_ACCOUNTS_PER_REQUEST} accounts in one request"},
        422: {
            "model": RowErrorsOut,
            "description": "Invalid or conflicting rows (every error: row, field, reason); nothing written",
        },
    },
)
def post_accounts(actor: ApiActorDep, body: JsonBodyDep, factory: SessionFactoryDep, clock: ClockDep) -> Any:
    """Upsert accounts by account_ref with the same validation and debtor matching as `tagih
    import-accounts`: all rows are checked first (a phone, chat id or account of another debtor is a
    conflict), and either all are written in one transaction or none."""
    if not isinstance(body, dict):
        return error_response(400, "request body must be a JSON object with 'accounts'", code="invalid_body")
    unknown = sorted(set(body) - {"accounts", "skip_invalid"})
    if unknown:
        return error_response(422, f"unknown field(s): {', '.join(unknown)}", code="invalid_body")
    accounts, skip_invalid = body.get("accounts"), body.get("skip_invalid", False)
    if not isinstance(accounts, list):
        return error_response(422, "'accounts' is required: a list of objects", code="invalid_body")
    if not accounts:
        return error_response(422, "'accounts' must contain at least one account", code="invalid_body")
    if len(accounts) > MAX_ACCOUNTS_PER_REQUEST:
        return error_response(
            413, f"{len(accounts)} accounts in one request; send at most {MAX_ACCOUNTS_PER_REQUEST}", code="too_large"
        )
    if not isinstance(skip_invalid, bool):
        return error_response(422, "'skip_invalid' must be true or false", code="invalid_body")

    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    shape_errors: list[Problem] = []
    for position, item in enumerate(accounts, start=1):
        if isinstance(item, dict):
            rows.append({key: _cell(value) for key, value in item.items()})
            positions.append(position)
        else:
            shape_errors.append(Problem(position, "row", "must be an object keyed by the CSV column names"))

    for attempt in (1, 2):
        with factory() as session:
            try:
                report = import_account_rows(
                    session,
                    rows,
                    skip_invalid=skip_invalid,
                    source_name="api",
                    actor=actor,
                    line_numbers=positions,
                    now=clock(),
                )
                if shape_errors and not skip_invalid:
                    raise ImportValidationError([])
                session.commit()
            except ImportValidationError as exc:
                session.rollback()
                errors = sorted([*shape_errors, *exc.errors], key=lambda e: e.line or 0)
                return error_response(
                    422,
                    f"{len({e.line for e in errors})} invalid row(s); nothing was written",
                    errors=[_row_error(e) for e in errors],
                )
            except IntegrityError:
                # Another request created one of these accounts meanwhile: once more, as updates.
                session.rollback()
                if attempt == 2:
                    raise
                continue
        errors = sorted([*shape_errors, *report.errors], key=lambda e: e.line or 0)
        return AccountImportOut(
            created=report.created,
            updated=report.updated,
            skipped=report.skipped + len(shape_errors),
            errors=[RowErrorOut(**_row_error(e)) for e in errors],
        )
    raise AssertionError("unreachable")  # pragma: no cover


@router.get(
    "/accounts/{ref}",
    response_model=AccountSnapshotOut,
    summary="One account with its history",
    responses={404: {"model": ErrorOut, "description": "No account with this ref"}},
)
def get_account(ref: str, actor: ApiActorDep, factory: SessionFactoryDep, clock: ClockDep) -> Any:
    """The same JSON as `tagih accounts show REF --json`: balance, days past due, promises, plans,
    payments, claims, handoffs and opt-outs (never the birth date used for identity checks)."""
    with factory() as session:
        try:
            return account_snapshot(session, ref, now=clock())
        except AccountNotFound:
            return error_response(404, f"no account with ref {ref!r}", code="unknown_account")
