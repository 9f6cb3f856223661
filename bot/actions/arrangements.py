"""Promise to pay, extension and installment plan: forms, their questions and their records."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import (
    FORM_ANSWER_INTENTS,
    TagihAction,
    TurnContext,
    agreed_so_far,
    latest_intent,
    latest_text,
)
from bot.actions.forms import TagihFormValidator
from bot.db.models import Handoff
from bot.domain.amounts import amount_meant, parse_amount, parse_count, parse_per_month
from bot.domain.claims import claimable
from bot.domain.dates import parse_due_date, parse_paid_date
from bot.domain.message_parts import says_paid, split_rest
from bot.domain.money import format_percent
from bot.domain.references import parse_reference
from bot.domain.schedule import count_for_amount, latest_promise_date, max_count_for, promise_problem
from bot.errors import PolicyError
from bot.services.arrangements import (
    propose_plan,
    record_installment_plan,
    record_promise,
    record_proposal,
)
from bot.services.handoffs import ticket_number

PROMISE_SLOTS = ("promise_date", "promise_amount", "promise_confirmed")
PLAN_SLOTS = ("installment_count", "installment_first_date", "installment_agreed", "installment_amount")
# The form is over for the bot (an offer went to an agent, or no plan is possible): nothing to record.
PLAN_ENDED = {"installment_count": 0, "installment_first_date": "-", "installment_agreed": False}
PAYDAY = re.compile(r"\b(gajian|gaji|payday|paycheck|salary)\b", re.I)


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


def forward(
    action: TagihAction,
    ctx: TurnContext,
    dispatcher: CollectingDispatcher,
    *,
    kind: str,
    amount: Decimal,
    summary: str,
    count: int | None = None,
    first: date | None = None,
) -> None:
    """Record the debtor's offer for an agent and tell them when to expect an answer."""
    assert ctx.account is not None and ctx.conversation is not None
    proposal = record_proposal(
        ctx.session,
        account=ctx.account,
        conversation=ctx.conversation,
        kind=kind,
        amount=amount,
        count=count,
        first_date=first,
        reason="beyond the bot's limits, within the agents'",
    )
    handoff = ctx.session.get(Handoff, proposal.handoff_id) if proposal.handoff_id else None
    action.say(
        dispatcher,
        "utter_proposal_forwarded",
        ctx.language,
        summary=summary,
        ticket=ticket_number(handoff) if handoff else "-",
    )


def arrangement_kind(tracker: Tracker) -> str:
    return "extension" if tracker.get_slot("pending_flow") == "request_extension" else "promise"


class ValidatePromiseForm(TagihFormValidator):
    form = "promise_form"
    ended = {"promise_date": "-", "promise_amount": "0", "promise_confirmed": False}

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
        if requested is None and tracker.get_slot("promise_date") and tracker.get_slot("promise_amount"):
            return {}  # filled by the flow that started the form (the rest after a payment claim)
        if requested == "promise_confirmed":
            corrected = self._correction(ctx, tracker)
            if corrected:
                return {**corrected, "promise_confirmed": None}
            if confirmation(tracker) is None and self._restated(ctx, tracker):
                return {"promise_confirmed": True}  # "all of it" to "you will pay all of it by Friday?"
            return ask_confirmation(self, ctx, dispatcher, tracker, "promise_confirmed")
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        updates: dict[str, Any] = {}
        claimed = self._payment_before_the_rest(ctx, dispatcher, text) if requested is None else None
        if claimed is not None:  # "sent 300k this morning, the rest next monday": the promise is for the rest
            text = split_rest(text)[1]
            rest, left = parse_amount(text), account.balance - claimed
            updates["promise_amount"] = str(rest if rest and rest <= left else left)
        max_days = ctx.policy.max_promise_days
        if requested in (None, "promise_date") or tracker.get_slot("promise_date") is None:
            promised = parse_due_date(text, today=ctx.today, language=lang)
            if promised is not None:
                problem = promise_problem(promised, today=ctx.today, max_days=max_days)
                agents_days = ctx.collection_policy.agents.max_promise_days
                if problem == "too_far" and promised <= latest_promise_date(ctx.today, agents_days):
                    # beyond the bot's limit but within the agents': a person decides
                    offered: Decimal = parse_amount(text) or account.balance
                    summary = f"{self.money(offered, account, lang)} {self.day(promised, lang)}"
                    forward(self, ctx, dispatcher, kind="promise", amount=offered, summary=summary, first=promised)
                    return {"promise_date": "-", "promise_amount": "0", "promise_confirmed": False}
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
        if claimed is None and (requested in (None, "promise_amount") or tracker.get_slot("promise_amount") is None):
            amount = amount_meant(text, account.balance)
            if amount is None and requested is None and arrangement_kind(tracker) == "extension":
                amount = account.balance
            earlier = agreed_so_far(account).promise
            if amount is None and requested is None and earlier is not None:
                amount = earlier.amount  # "ganti tgl 4 desember": a new date for the same amount
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

    def _payment_before_the_rest(self, ctx: TurnContext, dispatcher: CollectingDispatcher, text: str) -> Decimal | None:
        """A promise that starts with a payment already made: record that as a claim (an agent checks
        it) and return its amount; None when the message is only a promise."""
        account, conversation = ctx.account, ctx.conversation
        paid_part, rest_part = split_rest(text)
        if account is None or conversation is None or not rest_part or not says_paid(paid_part):
            return None
        amount = parse_amount(paid_part)
        if amount is None or not 0 < amount < account.balance:
            return None
        paid_on = parse_paid_date(paid_part, today=ctx.today, language=ctx.language) or ctx.today
        if not claimable(paid_on, today=ctx.today):
            paid_on = ctx.today
        reference, _ = parse_reference(paid_part)
        self.record_claim(dispatcher, ctx, amount=amount, paid_on=paid_on, reference=reference)
        return amount

    @staticmethod
    def _restated(ctx: TurnContext, tracker: Tracker) -> bool:
        """The answer to the confirmation repeats the amount or the date asked about, and nothing else."""
        account, text = ctx.account, latest_text(tracker)
        assert account is not None
        amount = amount_meant(text, account.balance)
        promised = parse_due_date(text, today=ctx.today, language=ctx.language)
        same_amount = amount is not None and str(amount) == tracker.get_slot("promise_amount")
        same_date = promised is not None and promised.isoformat() == tracker.get_slot("promise_date")
        return (same_amount or same_date) and latest_intent(tracker) in FORM_ANSWER_INTENTS - {"deny"}

    def _correction(self, ctx: TurnContext, tracker: Tracker) -> dict[str, Any]:
        """ "bukan, maksud sy sabtu tgl 5" at the confirmation: a new date (or amount) within the policy
        replaces the one asked about, and the confirmation is asked again."""
        account = ctx.account
        assert account is not None
        text = latest_text(tracker)  # "eh salah, 800rb aja ya" corrects even when it reads as a "yes"
        corrected: dict[str, Any] = {}
        promised = parse_due_date(text, today=ctx.today, language=ctx.language)
        if promised is not None and not promise_problem(
            promised, today=ctx.today, max_days=ctx.policy.max_promise_days
        ):
            if promised.isoformat() != tracker.get_slot("promise_date"):
                corrected["promise_date"] = promised.isoformat()
        amount = amount_meant(text, account.balance)
        if amount is not None and 0 < amount <= account.balance and str(amount) != tracker.get_slot("promise_amount"):
            corrected["promise_amount"] = str(amount)
        return corrected


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
                self.warn_replacing(dispatcher, ctx, promised=Decimal(tracker.get_slot("promise_amount")))
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
            if ctx.conversation is not None and ctx.conversation.status != "bot":
                return reset  # the offer went to a person, who answers it
            if tracker.get_slot("promise_date") == "-":
                return reset  # the form ended without a promise, and said why
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
    ended = PLAN_ENDED

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
        agents = ctx.collection_policy.agents.installments
        if requested is None and max_count < 2:
            if max_count_for(account.balance, agents) >= 2:  # e.g. 2 x 75,000: a person may agree it
                wanted = parse_count(self.turn_text(tracker, requested)) or 2
                if wanted <= max_count_for(account.balance, agents):
                    return self._count_for_agents(ctx, dispatcher, wanted)
            self.say(
                dispatcher,
                "utter_installment_not_possible",
                lang,
                balance=self.money(account.balance, account, lang),
                min_installment=self.money(policy.min_installment, account, lang),
            )
            return {"installment_count": 0, "installment_first_date": "-", "installment_agreed": False}
        if requested == "installment_agreed":
            if not latest_text(tracker).startswith("/"):  # a correction may read as a "yes" too
                text = latest_text(tracker)
                count, first = parse_count(text), parse_due_date(text, today=ctx.today, language=lang)
                latest = ctx.today + timedelta(days=policy.max_first_days)
                corrected: dict[str, Any] = {}
                if count is not None and 2 <= count <= max_count and count != tracker.get_slot("installment_count"):
                    corrected.update(installment_count=count, installment_amount=None)
                if first is not None and ctx.today <= first <= latest:
                    corrected["installment_first_date"] = first.isoformat()
                if corrected:
                    return {**corrected, "installment_agreed": None}
            return ask_confirmation(self, ctx, dispatcher, tracker, "installment_agreed")
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        updates: dict[str, Any] = {}
        monthly = parse_per_month(text) if requested in (None, "installment_count") else None
        if monthly is not None:
            agreed = self._negotiate(ctx, dispatcher, monthly)
            first = parse_due_date(text, today=ctx.today, language=lang)  # "600rb sebulan, gajian tgl 28"
            if agreed.get("installment_count") and first is not None:
                if ctx.today <= first <= ctx.today + timedelta(days=policy.max_first_days):
                    agreed["installment_first_date"] = first.isoformat()
            return agreed
        if requested in (None, "installment_count"):
            count = parse_count(text)
            if count is not None:
                if 2 <= count <= max_count:
                    updates["installment_count"] = count
                elif max_count < count <= max_count_for(account.balance, agents):
                    return self._count_for_agents(ctx, dispatcher, count)  # "10x bisa?": a person decides
                else:
                    self.say(dispatcher, "utter_installment_count_invalid", lang, max_count=max_count)
                    updates["installment_count"] = None
        if requested in (None, "installment_first_date"):
            first = parse_due_date(text, today=ctx.today, language=lang)
            latest = ctx.today + timedelta(days=policy.max_first_days)
            if first is not None:
                if ctx.today <= first <= latest:
                    updates["installment_first_date"] = first.isoformat()
                elif requested is not None:
                    return self._first_date_too_far(ctx, dispatcher, tracker, first)
            elif requested == "installment_first_date" and PAYDAY.search(text):
                self.say(dispatcher, "utter_ask_payday", lang)
                return {"installment_first_date": None}
        if requested is not None and requested not in updates:
            if intent not in FORM_ANSWER_INTENTS:
                return None
            if requested == "installment_count":
                self.say(dispatcher, "utter_installment_count_invalid", lang, max_count=max_count)
            else:
                self.say(dispatcher, "utter_invalid_promise_date", lang)
            updates[requested] = None
        return updates

    def _count_for_agents(self, ctx: TurnContext, dispatcher: CollectingDispatcher, count: int) -> dict[str, Any]:
        """More installments than the bot may agree but no more than agents may: an offer for a person."""
        account = ctx.account
        assert account is not None
        monthly = (account.balance / count).quantize(Decimal(1), rounding=ROUND_CEILING)
        summary = f"{self.money(monthly, account, ctx.language)} x {count}"
        forward(self, ctx, dispatcher, kind="installments", amount=monthly, summary=summary, count=count)
        return dict(PLAN_ENDED)

    def _negotiate(self, ctx: TurnContext, dispatcher: CollectingDispatcher, monthly: Decimal) -> dict[str, Any]:
        """ "500rb per bulan": as many instalments as that amount needs, within the bot's limits; an
        offer only agents may accept goes to them; otherwise the nearest plan the bot can offer."""
        account, lang = ctx.account, ctx.language
        assert account is not None
        bot, agents = ctx.policy.installments, ctx.collection_policy.agents.installments
        balance = account.balance
        money = lambda value: self.money(value, account, lang)  # noqa: E731
        if monthly >= balance:
            self.say(
                dispatcher, "utter_installment_monthly_covers", lang, amount=money(monthly), balance=money(balance)
            )
            return dict(PLAN_ENDED)
        count = count_for_amount(balance, monthly)
        if count <= bot.max_installments and monthly >= bot.min_installment:
            last = balance - monthly * (count - 1)
            self.say(
                dispatcher,
                "utter_installment_monthly_ok",
                lang,
                amount=money(monthly),
                balance=money(balance),
                count=count,
                last=money(last),
            )
            return {"installment_count": count, "installment_amount": str(monthly)}
        if count <= agents.max_installments and monthly >= agents.min_installment:
            summary = f"{money(monthly)} x {count}"
            forward(self, ctx, dispatcher, kind="installments", amount=monthly, summary=summary, count=count)
            return dict(PLAN_ENDED)
        most = max_count_for(balance, bot)
        self.say(
            dispatcher,
            "utter_installment_counter_offer",
            lang,
            offered=money(monthly),
            max_count=most,
            amount=money((balance / most).quantize(Decimal(1), rounding=ROUND_CEILING)),
        )
        return {"installment_count": None}

    def _first_date_too_far(
        self, ctx: TurnContext, dispatcher: CollectingDispatcher, tracker: Tracker, first: date
    ) -> dict[str, Any]:
        """A first instalment later than the bot may agree: an agent decides when it is within their
        limit; otherwise the latest date the bot can offer, with the reason."""
        account, lang = ctx.account, ctx.language
        assert account is not None
        policy, agents = ctx.policy.installments, ctx.collection_policy.agents.installments
        count = int(tracker.get_slot("installment_count") or 0)
        if first > ctx.today and count and first <= ctx.today + timedelta(days=agents.max_first_days):
            monthly = tracker.get_slot("installment_amount")
            amount = Decimal(monthly) if monthly else (account.balance / count).quantize(Decimal(1))
            summary = f"{self.money(amount, account, lang)} x {count}, {self.day(first, lang)}"
            forward(
                self, ctx, dispatcher, kind="installments", amount=amount, summary=summary, count=count, first=first
            )
            return dict(PLAN_ENDED)
        latest = ctx.today + timedelta(days=policy.max_first_days)
        self.say(
            dispatcher,
            "utter_first_date_too_far",
            lang,
            latest=self.day(latest, lang),
            latest_iso=latest.isoformat(),
            days=policy.max_first_days,
        )
        return {"installment_first_date": None}


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
    monthly = tracker.get_slot("installment_amount")
    schedule = propose_plan(
        ctx.account,
        count=int(tracker.get_slot("installment_count")),
        first_date=date.fromisoformat(tracker.get_slot("installment_first_date")),
        today=ctx.today,
        policy=ctx.policy,
        amount=Decimal(monthly) if monthly else None,
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
            self.warn_replacing(dispatcher, ctx)
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
                monthly = tracker.get_slot("installment_amount")
                record_installment_plan(
                    ctx.session,
                    account=account,
                    conversation=ctx.conversation,
                    count=count,
                    first_date=date.fromisoformat(tracker.get_slot("installment_first_date")),
                    today=ctx.today,
                    policy=ctx.policy,
                    amount=Decimal(monthly) if monthly else None,
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
