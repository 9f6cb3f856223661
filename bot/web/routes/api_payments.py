"""``POST /api/payments``: a lender's system records money received for an account, once per
reference, and reads back the payment and the account's state after it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError

from bot.schemas.errors import ErrorOut
from bot.schemas.payments import AccountStateOut, PaymentIn, PaymentOut, PaymentResultOut
from bot.services.accounts import AccountNotFound
from bot.services.payments import InvalidPayment, PaymentConflict, PaymentResult, record_payment
from bot.web.deps import ClockDep, SessionFactoryDep
from bot.web.routes.api_access import ApiActorDep, JsonBodyDep, error_response, json_body_doc, validation_problems

router = APIRouter()


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


@router.post(
    "/payments",
    status_code=201,
    response_model=PaymentResultOut,
    summary="Record a payment",
    openapi_extra=json_body_doc(PaymentIn.model_json_schema()),
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
        return error_response(400, "request body must be a JSON object", code="invalid_body")
    try:
        data = PaymentIn.model_validate(body)
    except ValidationError as exc:
        problems = validation_problems(exc)
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return error_response(422, detail, code="invalid_payment", errors=problems)
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
        return error_response(422, str(exc), code=exc.code, errors=errors)
    except AccountNotFound as exc:
        return error_response(404, str(exc), code=exc.code)
    except PaymentConflict as exc:
        return error_response(409, str(exc), code=exc.code)
    if result.outcome == "duplicate":
        response.status_code = 200
    return _payment_out(result)
