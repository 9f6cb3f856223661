"""Operations API for lenders' systems: record payments, upsert accounts, read one account.

Every route needs a key from ``TAGIH_API_KEYS``, sent as ``X-API-Key: <key>`` or
``Authorization: Bearer <key>``; with no keys configured the API answers 503 instead of being open.
The key is checked before the body is read, so an unauthenticated caller learns nothing, not even
whether its JSON parses. Each request is one transaction: when it is refused, nothing was written.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from sqlalchemy.exc import IntegrityError

from bot.errors import Problem
from bot.services.accounts import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    AccountNotFound,
    ImportValidationError,
    account_snapshot,
    import_account_rows,
)
from bot.services.payments import InvalidPayment, PaymentConflict, PaymentResult, record_payment
from bot.web.deps import ClockDep, SessionFactoryDep, SettingsDep
from channels.base import PayloadError, load_json

MAX_ACCOUNTS_PER_REQUEST = 10_000

# ---------------------------------------------------------------------------------------------------
# Authentication

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="One of the keys in TAGIH_API_KEYS.",
    auto_error=False,
)
_bearer = HTTPBearer(
    scheme_name="BearerKey",
    description="The same API key, as `Authorization: Bearer <key>`.",
    auto_error=False,
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tagih-api"'}


def _actor(key: str) -> str:
    """Who the audit log says acted: a fingerprint of the key, never the key itself."""
    return "api:" + hashlib.sha256(key.encode()).hexdigest()[:12]


async def require_api_key(
    settings: SettingsDep,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str:
    """The caller's audit actor; 503 while no keys are configured, 401 for a missing or wrong key."""
    configured = [key.get_secret_value().encode() for key in settings.api_keys]
    if not configured:
        raise HTTPException(503, "API disabled: set TAGIH_API_KEYS")
    presented = api_key if api_key is not None else (bearer.credentials if bearer is not None else None)
    if not presented:
        raise HTTPException(
            401, "missing API key: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'", headers=_CHALLENGE
        )
    given = presented.encode()
    matched = False
    for key in configured:  # no early exit: the time taken does not say which key nearly matched
        matched |= hmac.compare_digest(given, key)
    if not matched:
        raise HTTPException(401, "invalid API key", headers=_CHALLENGE)
    return _actor(presented)


ApiActorDep = Annotated[str, Depends(require_api_key)]


async def read_json(request: Request, _: ApiActorDep) -> Any:
    """The body as JSON, numbers with a fraction as exact Decimals; refused when nested too deeply
    or holding text that cannot be stored (lone surrogates, NUL). Depends on the key check, so it
    can never run first."""
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(400, "request body is empty: send a JSON object")
    try:
        return load_json(raw, parse_float=Decimal)
    except PayloadError as exc:
        raise HTTPException(400, f"invalid request body: {exc}") from exc


JsonBodyDep = Annotated[Any, Depends(read_json)]

router = APIRouter(
    prefix="/api",
    tags=["operations API"],
    responses={
        401: {"description": "Missing or wrong API key"},
        503: {"description": "API disabled: no TAGIH_API_KEYS configured"},
    },
)


# ---------------------------------------------------------------------------------------------------
# Models


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong, in words")
    code: str | None = Field(None, description="Machine-readable reason")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="Every field at fault")


class RowErrorOut(BaseModel):
    row: int = Field(description="1-based position in 'accounts'")
    index: int = Field(description="0-based position in 'accounts'")
    field: str
    message: str


class RowErrorsOut(BaseModel):
    detail: str
    errors: list[RowErrorOut]


_AMOUNT_SCHEMA = WithJsonSchema(
    {
        "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number"}],
        "description": 'Greater than 0, at most 2 decimals; a string ("150000.50") is exact everywhere',
    }
)


class PaymentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_ref": "DEMO-1001",
                    "amount": "500000.00",
                    "currency": "IDR",
                    "paid_at": "2026-11-20T14:30:00+07:00",
                    "reference": "BCA-20261120-000123",
                }
            ]
        },
    )

    account_ref: str = Field(description="The account the money is for")
    amount: Annotated[Any, _AMOUNT_SCHEMA] = Field(description="Decimal string or JSON number")
    currency: str | None = Field(None, description="ISO 4217 code; when given it must be the account's currency")
    paid_at: str = Field(
        description="ISO 8601 datetime with a UTC offset, or a date alone (midnight in the debtor's timezone); "
        "not in the future"
    )
    reference: str = Field(description="Bank or gateway transaction id; sending it again is answered, not re-applied")


class PaymentOut(BaseModel):
    id: int
    account_ref: str
    amount: str
    currency: str
    paid_at: str = Field(description="ISO 8601, UTC")
    reference: str | None
    source: str


class AccountStateOut(BaseModel):
    ref: str
    currency: str
    amount_due: str
    paid_total: str
    waived: str = Field(description="waived by a kept early-settlement promise (the policy's discount)")
    balance: str
    status: str


class PaymentResultOut(BaseModel):
    outcome: Literal["created", "duplicate"] = Field(description="'duplicate': the reference was already recorded")
    payment: PaymentOut
    account: AccountStateOut = Field(description="The account as it is now")


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


class AccountImportOut(BaseModel):
    created: int
    updated: int
    skipped: int = Field(description="Invalid rows left out (only with skip_invalid)")
    errors: list[RowErrorOut] = Field(description="Why each skipped row was left out")


# The snapshot is the exact JSON of `tagih accounts show REF --json`: dates and money stay the
# strings the service made, and keys added there later pass through (extra="allow").
class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="allow")


class DebtorOut(_Snapshot):
    name: str
    phone: str | None
    telegram_chat_id: str | None
    email: str | None
    language: str
    timezone: str


class PromiseOut(_Snapshot):
    id: int
    kind: str
    amount: str
    promised_date: str
    status: str
    conversation_id: int | None
    created_at: str | None


class InstallmentOut(_Snapshot):
    seq: int
    due_date: str
    amount: str
    status: str


class PlanOut(_Snapshot):
    id: int
    total: str
    installment_count: int
    status: str
    conversation_id: int | None
    created_at: str | None
    installments: list[InstallmentOut]


class PaymentRecordOut(_Snapshot):
    id: int
    amount: str
    paid_at: str
    reference: str | None
    source: str


class ClaimOut(_Snapshot):
    id: int
    amount: str | None
    paid_on: str | None
    reference: str | None
    status: str
    conversation_id: int | None
    created_at: str | None


class HandoffOut(_Snapshot):
    id: int
    reason: str
    note: str | None
    status: str
    assigned_to: str | None
    conversation_id: int | None
    created_at: str | None
    resolved_at: str | None


class OptOutOut(_Snapshot):
    id: int
    channel: str
    address: str
    kind: str
    source: str
    created_at: str | None
    revoked_at: str | None


class AccountSnapshotOut(_Snapshot):
    ref: str
    currency: str
    amount_due: str
    fees: str | None
    paid_total: str
    waived: str
    balance: str
    due_date: str
    status: str
    days_past_due: int
    dpd_bucket: str
    segment: str | None
    virtual_account: str | None
    as_of: str
    debtor: DebtorOut
    promises: list[PromiseOut]
    plans: list[PlanOut]
    payments: list[PaymentRecordOut]
    claims: list[ClaimOut]
    handoffs: list[HandoffOut]
    opt_outs: list[OptOutOut]


# ---------------------------------------------------------------------------------------------------
# Helpers


def _json_body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI request body for routes that read the body themselves (after the key check)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _error(
    status: int, detail: str, *, code: str | None = None, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if code is not None:
        body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors()
    ]


def _row_error(error: Problem) -> dict[str, Any]:
    line = error.line or 0  # import problems always name their line
    return {"row": line, "index": line - 1, "field": error.field, "message": error.message}


def _payment_out(result: PaymentResult) -> PaymentResultOut:
    payment, account = result.payment, result.account
    return PaymentResultOut(
        outcome=result.outcome,
        payment=PaymentOut(
            id=payment.id,
            account_ref=account.ref,
            amount=str(payment.amount),
            currency=account.currency,
            paid_at=payment.paid_at.isoformat(),
            reference=payment.reference,
            source=payment.source,
        ),
        account=AccountStateOut(
            ref=account.ref,
            currency=account.currency,
            amount_due=str(account.amount_due),
            paid_total=str(result.paid_total),
            waived=str(account.waived or Decimal("0.00")),
            balance=str(result.balance),
            status=result.status,
        ),
    )


def _cell(value: Any) -> Any:
    """JSON numbers with a fraction arrive as Decimals; the account validation reads text."""
    return str(value) if isinstance(value, Decimal) else value


# ---------------------------------------------------------------------------------------------------
# Routes


@router.post(
    "/payments",
    status_code=201,
    response_model=PaymentResultOut,
    summary="Record a payment",
    openapi_extra=_json_body_doc(PaymentIn.model_json_schema()),
    responses={
        200: {"model": PaymentResultOut, "description": "Already recorded with this reference: nothing changed"},
        201: {"description": "Recorded; the account's balance and status after it"},
        400: {"model": ErrorOut, "description": "The body is not a JSON object"},
        404: {"model": ErrorOut, "description": "No account with this account_ref"},
        409: {"model": ErrorOut, "description": "The reference is recorded for another account or amount"},
        422: {"model": ErrorOut, "description": "Invalid fields, each with a reason"},
    },
)
def post_payment(
    actor: ApiActorDep, body: JsonBodyDep, response: Response, factory: SessionFactoryDep, clock: ClockDep
) -> Any:
    """Record money received for an account. It lowers the balance, keeps promises it fulfils on time,
    pays installments in order, and marks the account paid at zero. Safe to retry: the same
    reference, account and amount again answers 200 with the recorded payment."""
    if not isinstance(body, dict):
        return _error(400, "request body must be a JSON object", code="invalid_body")
    try:
        data = PaymentIn.model_validate(body)
    except ValidationError as exc:
        problems = _validation_problems(exc)
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return _error(422, detail, code="invalid_payment", errors=problems)
    try:
        result = record_payment(
            factory,
            account_ref=data.account_ref,
            amount=data.amount,
            paid_at=data.paid_at,
            reference=data.reference,
            currency=data.currency,
            source="api",
            actor=actor,
            now=clock(),
        )
    except InvalidPayment as exc:
        errors = [{"field": p.field, "message": p.message} for p in exc.problems]
        return _error(422, str(exc), code=exc.code, errors=errors)
    except AccountNotFound as exc:
        return _error(404, str(exc), code=exc.code)
    except PaymentConflict as exc:
        return _error(409, str(exc), code=exc.code)
    if result.outcome == "duplicate":
        response.status_code = 200
    return _payment_out(result)


@router.post(
    "/accounts",
    response_model=AccountImportOut,
    summary="Create or update accounts in bulk",
    openapi_extra=_json_body_doc(
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
        return _error(400, "request body must be a JSON object with 'accounts'", code="invalid_body")
    unknown = sorted(set(body) - {"accounts", "skip_invalid"})
    if unknown:
        return _error(422, f"unknown field(s): {', '.join(unknown)}", code="invalid_body")
    accounts, skip_invalid = body.get("accounts"), body.get("skip_invalid", False)
    if not isinstance(accounts, list):
        return _error(422, "'accounts' is required: a list of objects", code="invalid_body")
    if not accounts:
        return _error(422, "'accounts' must contain at least one account", code="invalid_body")
    if len(accounts) > MAX_ACCOUNTS_PER_REQUEST:
        return _error(
            413, f"{len(accounts)} accounts in one request; send at most {MAX_ACCOUNTS_PER_REQUEST}", code="too_large"
        )
    if not isinstance(skip_invalid, bool):
        return _error(422, "'skip_invalid' must be true or false", code="invalid_body")

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
                return _error(
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
            return _error(404, f"no account with ref {ref!r}", code="unknown_account")
