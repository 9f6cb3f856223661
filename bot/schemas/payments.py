"""A payment as the operations API takes it (amount as an exact decimal string or a JSON number) and as
it answers: the payment recorded and the account's state after it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

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
