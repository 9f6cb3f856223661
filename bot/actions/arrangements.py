"""Promise to pay, extension and installment plan: forms, their questions and their records."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import FORM_ANSWER_INTENTS, TagihAction, TurnContext, latest_intent
from bot.actions.forms import TagihFormValidator
from bot.domain.amounts import parse_amount, parse_count
from bot.domain.dates import parse_due_date
from bot.domain.money import format_percent
from bot.domain.schedule import latest_promise_date, max_count_for, promise_problem
from bot.errors import PolicyError
from bot.services.arrangements import propose_plan, record_installment_plan, record_promise

FULL_AMOUNT = re.compile(r"\b(lunas|full|semua(nya)?|seluruh(nya)?|all|everything|in full|penuh)\b", re.I)
PROMISE_SLOTS = ("promise_date", "promise_amount", "promise_confirmed")
PLAN_SLOTS = ("installment_count", "installment_first_date", "installment_agreed")


def confirmation(tracker: Tracker) -> bool | None:
    intent = latest_intent(tracker)
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


def ask_confirmation(
    action: TagihAction, ctx: TurnContext, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
) -> dict[str, Any] | None:
    answer = confirmation(tracker)
    if answer is not None:
        return {slot: answer}
    if latest_intent(tracker) not in FORM_ANSWER_INTENTS:
        return None
    action.say(dispatcher, "utter_please_confirm", ctx.language)
    return {slot: None}


def arrangement_kind(tracker: Tracker) -> str:
    return "extension" if tracker.get_slot("pending_flow") == "request_extension" else "promise"


class ValidatePromiseForm(TagihFormValidator):
    form = "promise_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        account, lang = ctx.account, ctx.language
        if account is None:
            return {"promise_date": "-", "promise_amount": "0", "promise_confirmed": False}
        if requested == "promise_confirmed":
            return ask_confirmation(self, ctx, dispatcher, tracker, "promise_confirmed")
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        updates: dict[str, Any] = {}
        max_days = ctx.policy.max_promise_days
        if requested in (None, "promise_date") or tracker.get_slot("promise_date") is None:
            promised = parse_due_date(text, today=ctx.today, language=lang)
            if promised is not None:
                problem = promise_problem(promised, today=ctx.today, max_days=max_days)
                if problem == "too_far":
                    latest = latest_promise_date(ctx.today, max_days)
                    self.say(
                        dispatcher,
                        "utter_promise_too_far",
                        lang,
                        latest=self.day(latest, lang),
                        latest_iso=latest.isoformat(),
                    )
                    updates["promise_date"] = None
                elif problem == "in_past":
                    self.say(dispatcher, "utter_promise_in_past", lang, date=self.day(promised, lang))
                    updates["promise_date"] = None
                else:
                    updates["promise_date"] = promised.isoformat()
        if requested in (None, "promise_amount") or tracker.get_slot("promise_amount") is None:
            amount = account.balance if FULL_AMOUNT.search(text) else parse_amount(text)
            if amount is None and requested is None and arrangement_kind(tracker) == "extension":
                amount = account.balance
            if amount is not None:
                if amount > account.balance or amount <= 0:
                    self.say(
                        dispatcher,
                        "utter_promise_amount_too_high",
                        lang,
                        balance=self.money(account.balance, account, lang),
                    )
                    updates["promise_amount"] = None
                else:
                    updates["promise_amount"] = str(amount)
        if requested is not None and requested not in updates:
            if intent not in FORM_ANSWER_INTENTS and not updates:
                return None
            response = "utter_invalid_promise_date" if requested == "promise_date" else "utter_invalid_amount"
            self.say(dispatcher, response, lang)
            updates[requested] = None
        return updates


class ActionAskPromiseAmount(TagihAction):
    action_name = "action_ask_promise_amount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is not None:
                balance = self.money(ctx.account.balance, ctx.account, ctx.language)
                self.say(dispatcher, "utter_ask_promise_amount", ctx.language, balance=balance)
        return []


class ActionAskPromiseConfirmed(TagihAction):
    action_name = "action_ask_promise_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is not None:
                lang = ctx.language
                self.say(
                    dispatcher,
                    "utter_ask_promise_confirmed",
                    lang,
                    amount=self.money(Decimal(tracker.get_slot("promise_amount")), ctx.account, lang),
                    date=self.day(date.fromisoformat(tracker.get_slot("promise_date")), lang),
                )
        return []


class ActionRecordPromise(TagihAction):
    action_name = "action_record_promise"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in PROMISE_SLOTS]
        with self.turn(tracker) as ctx:
            account, lang = ctx.account, ctx.language
            if account is None:
                self.say(dispatcher, "utter_not_verified", lang)
                return reset
            if tracker.get_slot("promise_confirmed") is not True:
                self.say(dispatcher, "utter_arrangement_cancelled", lang)
                return reset
            kind = arrangement_kind(tracker)
            amount = Decimal(tracker.get_slot("promise_amount"))
            promised = date.fromisoformat(tracker.get_slot("promise_date"))
            balance = account.balance
            try:
                promise = record_promise(
                    ctx.session,
                    account=account,
                    conversation=ctx.conversation,
                    amount=amount,
                    promised_date=promised,
                    kind=kind,
                    today=ctx.today,
                    policy=ctx.policy,
                )
            except PolicyError:
                self.say(dispatcher, "utter_arrangement_cancelled", lang)
                return reset
            offer = ctx.policy.early_settlement
            if promise.kind == "settlement" and offer is not None:
                self.say(
                    dispatcher,
                    "utter_settlement_recorded",
                    lang,
                    amount=self.money(promise.amount, account, lang),
                    balance=self.money(balance, account, lang),
                    discount=format_percent(offer.discount_percent, lang),
                    date=self.day(promised, lang),
                )
                return reset
            self.say(
                dispatcher,
                "utter_extension_recorded" if kind == "extension" else "utter_promise_recorded",
                lang,
                amount=self.money(amount, account, lang),
                date=self.day(promised, lang),
            )
        return reset


class ValidateInstallmentForm(TagihFormValidator):
    form = "installment_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        account, lang = ctx.account, ctx.language
        policy = ctx.policy.installments
        if account is None:
            return {"installment_count": 0, "installment_first_date": "-", "installment_agreed": False}
        max_count = max_count_for(account.balance, policy)
        if requested is None and max_count < 2:
            self.say(
                dispatcher,
                "utter_installment_not_possible",
                lang,
                balance=self.money(account.balance, account, lang),
                min_installment=self.money(policy.min_installment, account, lang),
            )
            return {"installment_count": 0, "installment_first_date": "-", "installment_agreed": False}
        if requested == "installment_agreed":
            return ask_confirmation(self, ctx, dispatcher, tracker, "installment_agreed")
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        updates: dict[str, Any] = {}
        if requested in (None, "installment_count"):
            count = parse_count(text)
            if count is not None:
                if 2 <= count <= max_count:
                    updates["installment_count"] = count
                else:
                    self.say(dispatcher, "utter_installment_count_invalid", lang, max_count=max_count)
                    updates["installment_count"] = None
        if requested in (None, "installment_first_date"):
            first = parse_due_date(text, today=ctx.today, language=lang)
            latest = ctx.today + timedelta(days=policy.max_first_days)
            if first is not None:
                if ctx.today <= first <= latest:
                    updates["installment_first_date"] = first.isoformat()
                else:
                    updates["installment_first_date"] = None
        if requested is not None and requested not in updates:
            if intent not in FORM_ANSWER_INTENTS:
                return None
            if requested == "installment_count":
                self.say(dispatcher, "utter_installment_count_invalid", lang, max_count=max_count)
            else:
                self.say(dispatcher, "utter_invalid_promise_date", lang)
            updates[requested] = None
        return updates


class ActionAskInstallmentCount(TagihAction):
    action_name = "action_ask_installment_count"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is not None:
                policy = ctx.policy.installments
                self.offer_early_settlement(dispatcher, ctx)
                self.say(
                    dispatcher,
                    "utter_ask_installment_count",
                    ctx.language,
                    max_count=max_count_for(ctx.account.balance, policy),
                    min_installment=self.money(policy.min_installment, ctx.account, ctx.language),
                )
        return []


class ActionAskInstallmentFirstDate(TagihAction):
    action_name = "action_ask_installment_first_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            latest = ctx.today + timedelta(days=ctx.policy.installments.max_first_days)
            self.say(
                dispatcher,
                "utter_ask_installment_first_date",
                ctx.language,
                latest=self.day(latest, ctx.language),
            )
        return []


def schedule_lines(action: TagihAction, ctx: TurnContext, tracker: Tracker) -> tuple[str, str, int]:
    assert ctx.account is not None
    lang = ctx.language
    schedule = propose_plan(
        ctx.account,
        count=int(tracker.get_slot("installment_count")),
        first_date=date.fromisoformat(tracker.get_slot("installment_first_date")),
        today=ctx.today,
        policy=ctx.policy,
    )
    lines = "\n".join(
        f"{item.seq}. {action.day(item.due_date, lang)}: {action.money(item.amount, ctx.account, lang)}"
        for item in schedule
    )
    total = action.money(sum((i.amount for i in schedule), Decimal(0)), ctx.account, lang)
    return lines, total, len(schedule)


class ActionAskInstallmentAgreed(TagihAction):
    action_name = "action_ask_installment_agreed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is None:
                return []
            try:
                lines, total, count = schedule_lines(self, ctx, tracker)
            except PolicyError:
                self.say(dispatcher, "utter_arrangement_cancelled", ctx.language)
                return [SlotSet(slot, None) for slot in PLAN_SLOTS]
            self.say(
                dispatcher,
                "utter_ask_installment_agreed",
                ctx.language,
                count=count,
                total=total,
                schedule=lines,
            )
        return []


class ActionRecordInstallmentPlan(TagihAction):
    action_name = "action_record_installment_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in PLAN_SLOTS]
        with self.turn(tracker) as ctx:
            account, lang = ctx.account, ctx.language
            if account is None or not tracker.get_slot("installment_count"):
                return reset
            if tracker.get_slot("installment_agreed") is not True:
                self.say(dispatcher, "utter_arrangement_cancelled", lang)
                return reset
            try:
                lines, total, count = schedule_lines(self, ctx, tracker)
                record_installment_plan(
                    ctx.session,
                    account=account,
                    conversation=ctx.conversation,
                    count=count,
                    first_date=date.fromisoformat(tracker.get_slot("installment_first_date")),
                    today=ctx.today,
                    policy=ctx.policy,
                )
            except PolicyError:
                self.say(dispatcher, "utter_arrangement_cancelled", lang)
                return reset
            self.say(
                dispatcher,
                "utter_installment_recorded",
                lang,
                account_ref=account.ref,
                count=count,
                total=total,
                schedule=lines,
            )
        return reset
