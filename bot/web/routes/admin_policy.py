"""The admin editor's collection policy: the contact-rules profile and caps, what the bot and agents
may agree (horizon, installments, minimum, early-settlement discount) and the payment instructions.

The policy is a document of the versioned flow set (bot/data/policy.yml): a change is a new version
and applies to the next turn and the next reminder run, without training. Admins only; changes need
the CSRF token. A refused change (422, every reason listed) stores nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.services import flows, policy
from bot.web.auth import AdminApi, csrf_protect
from bot.web.deps import SessionFactoryDep, in_transaction

router = APIRouter(prefix="/admin/api/policy", tags=["admin"], include_in_schema=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RulesIn(_Strict):
    profile: Literal["indonesia", "us_regulation_f"] | None = None
    max_per_day: int | None = Field(None, ge=1)  # None: the profile's cap
    max_per_week: int | None = Field(None, ge=1)


class EarlySettlementIn(_Strict):
    discount_percent: Decimal | None = Field(None, ge=0, le=policy.MAX_DISCOUNT_PERCENT)
    pay_within_days: int | None = Field(None, ge=1)


class ArrangementsIn(_Strict):
    max_promise_days: int | None = Field(None, ge=1)
    max_installments: int | None = Field(None, ge=1)
    min_installment: Decimal | None = Field(None, ge=0)
    max_first_installment_days: int | None = Field(None, ge=1)
    early_settlement: EarlySettlementIn | None = None


class AgentsIn(_Strict):
    max_promise_days: int | None = Field(None, ge=1)
    max_installments: int | None = Field(None, ge=1)
    min_installment: Decimal | None = Field(None, ge=0)


class InstructionsIn(_Strict):
    id: str | None = Field(None, max_length=flows.MAX_TEXT)
    en: str | None = Field(None, max_length=flows.MAX_TEXT)


class PolicyIn(_Strict):
    rules: RulesIn | None = None
    arrangements: ArrangementsIn | None = None
    agents: AgentsIn | None = None
    payment_instructions: InstructionsIn | None = None


def _values(body: PolicyIn) -> dict[str, dict[str, Any]]:
    """The sent fields by section (dotted for the nested early-settlement offer); unsent stay as they are."""
    data = body.model_dump(exclude_unset=True)
    values: dict[str, dict[str, Any]] = {}
    for section, items in data.items():
        if items is None:
            continue
        early = items.pop("early_settlement", None) if section == "arrangements" else None
        if items:
            values[section] = items
        if early:
            values["arrangements.early_settlement"] = early
    if not values:
        raise flows.FlowError(["nothing to change"])
    return values


def _state(session: Any) -> dict[str, Any]:
    version = flows.seed(session)
    text = policy.current_text(version.documents)
    return {"version": version.number, **policy.describe(policy.parse_text(text), text)}


@router.get("")
async def show_policy(user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    """The policy in force (caps as applied), the profiles to choose from and the document's text."""
    return await in_transaction(factory, _state)


@router.put("", dependencies=[Depends(csrf_protect)])
async def edit_policy(body: PolicyIn, request: Request, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    values = _values(body)

    def work(session: Any) -> dict[str, Any]:
        version = policy.edit(session, values, by=user.email)
        return {"number": version.number, "summary": version.summary, **_state(session)}

    return await in_transaction(factory, work)
