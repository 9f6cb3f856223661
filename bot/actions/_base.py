"""Shared plumbing for the custom actions: dependencies, tracker helpers, rendering.

Actions stay thin: read slots, call a service inside one transaction, return events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cached_property
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Conversation, Installment, InstallmentPlan, Promise
from bot.dialogue.responses import Responses
from bot.domain.dates import format_date, local_today
from bot.domain.money import format_money, format_percent
from bot.services.arrangements import record_payment_claim
from bot.services.conversations import conversation_for_rasa_sender
from bot.services.identity import choose_account, mentioned_account, mentions_ref
from bot.services.policy import ArrangementPolicy, CollectionPolicy, active_policy
from bot.settings import Settings

Clock = Callable[[], datetime]

# Intents that mean "the debtor wants something else", so a form should let go of the turn.
FORM_ANSWER_INTENTS = frozenset({"inform", "affirm", "deny", "nlu_fallback", "out_of_scope", "thanks"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ActionDeps:
    session_factory: sessionmaker[Session]
    settings: Settings
    responses: Responses
    clock: Clock = utc_now


@dataclass
class TurnContext:
    """What an action needs about the current conversation, loaded once per call."""

    session: Session
    conversation: Conversation | None
    account: Account | None
    language: str
    now: datetime

    @cached_property
    def collection_policy(self) -> CollectionPolicy:
        """The policy in force for this turn (the newest flow version's, so admin edits apply live)."""
        return active_policy(self.session)

    @property
    def policy(self) -> ArrangementPolicy:
        """What the bot may agree on its own."""
        return self.collection_policy.bot

    @property
    def today(self) -> date:
        if self.account is not None:
            return self.account.local_today(self.now)
        return self.now.date()


class TagihAction(Action):
    """Base for actions that need the database and the reply catalogue."""

    action_name = ""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps

    def name(self) -> str:
        return self.action_name

    def language(self, tracker: Tracker) -> str:
        return tracker.get_slot("language") or self.deps.settings.default_language

    @contextmanager
    def turn(self, tracker: Tracker) -> Iterator[TurnContext]:
        with self.deps.session_factory.begin() as session:
            conversation = conversation_for_rasa_sender(session, tracker.sender_id)
            account = None
            if conversation is not None and conversation.verified and conversation.account_id:
                account = session.get(Account, conversation.account_id)
                text = latest_text(tracker)
                if account is not None and mentions_ref(text):
                    # "yg TGH-10023 udh sy bayar": the debtor's other account is what this turn is about
                    named = mentioned_account(account.debtor, text)
                    if named is not None and named.id != account.id:
                        choose_account(session, conversation, named)
                        account = named
            yield TurnContext(
                session=session,
                conversation=conversation,
                account=account,
                language=self.language(tracker),
                now=self.deps.clock(),
            )

    def say(self, dispatcher: CollectingDispatcher, name: str, language: str, **values: Any) -> None:
        values.setdefault("company_name", self.deps.settings.company_name)
        dispatcher.utter_message(**self.deps.responses.render(name, language, **values))

    def offer_early_settlement(self, dispatcher: CollectingDispatcher, ctx: TurnContext) -> None:
        """Tell the debtor about the policy's early-settlement discount, when there is one."""
        offer, account = ctx.policy.early_settlement, ctx.account
        if offer is None or account is None or account.balance <= 0:
            return
        if "utter_early_settlement_offer" not in self.deps.responses.names():
            return  # a flow version from before the offer existed
        self.say(
            dispatcher,
            "utter_early_settlement_offer",
            ctx.language,
            amount=self.money(offer.amount(account.balance), account, ctx.language),
            balance=self.money(account.balance, account, ctx.language),
            discount=format_percent(offer.discount_percent, ctx.language),
            date=self.day(offer.deadline(ctx.today), ctx.language),
        )

    def tell_agreed(self, dispatcher: CollectingDispatcher, ctx: TurnContext, agreed: Agreed) -> None:
        """What is already under way on the account: payments being checked, a promise, a plan."""
        account, lang = ctx.account, ctx.language
        assert account is not None
        if agreed.claimed:
            rest = max(account.balance - agreed.claimed, 0)
            self.say(
                dispatcher,
                "utter_agreed_claims",
                lang,
                amount=self.money(agreed.claimed, account, lang),
                rest=self.money(rest, account, lang),
            )
        if agreed.promise is not None:
            self.say(
                dispatcher,
                "utter_agreed_promise",
                lang,
                amount=self.money(agreed.promise.amount, account, lang),
                date=self.day(agreed.promise.promised_date, lang),
            )
        if agreed.plan is not None and agreed.next_installment is not None:
            self.say(
                dispatcher,
                "utter_agreed_plan",
                lang,
                count=agreed.plan.installment_count,
                amount=self.money(agreed.next_installment.amount, account, lang),
                date=self.day(agreed.next_installment.due_date, lang),
            )

    def warn_replacing(
        self, dispatcher: CollectingDispatcher, ctx: TurnContext, *, promised: Decimal | None = None
    ) -> None:
        """Before a new promise (of ``promised``) or plan is confirmed: what it replaces, so nothing is
        replaced silently. A promise replaces a plan only when it pays off the whole balance."""
        account = ctx.account
        if account is None:
            return
        agreed = agreed_so_far(account)
        if agreed.plan is not None and promised is not None and promised < account.balance:
            return  # paying part early: the plan goes on
        if agreed.promise is not None:
            existing = self.deps.responses.render(
                "utter_fragment_existing_promise",
                ctx.language,
                amount=self.money(agreed.promise.amount, account, ctx.language),
                date=self.day(agreed.promise.promised_date, ctx.language),
            )["text"]
        elif agreed.plan is not None:
            existing = self.deps.responses.render(
                "utter_fragment_existing_plan", ctx.language, count=agreed.plan.installment_count
            )["text"]
        else:
            return
        self.say(dispatcher, "utter_replaces_arrangement", ctx.language, existing=existing)

    def record_claim(
        self,
        dispatcher: CollectingDispatcher,
        ctx: TurnContext,
        *,
        amount: Decimal,
        paid_on: date,
        reference: str | None,
    ) -> None:
        """A payment the debtor says they made, kept for an agent to check, and said back to them."""
        account, lang = ctx.account, ctx.language
        assert account is not None
        record_payment_claim(
            ctx.session,
            account=account,
            conversation=ctx.conversation,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
        )
        self.say(
            dispatcher,
            "utter_claim_recorded",
            lang,
            amount=self.money(amount, account, lang),
            paid_on=self.day(paid_on, lang),
        )

    def money(self, amount: Any, account: Account, language: str) -> str:
        return format_money(amount, account.currency, language)

    @staticmethod
    def day(value: date, language: str) -> str:
        return format_date(value, language)


@dataclass(frozen=True)
class Agreed:
    """What is already under way on an account (so the bot neither ignores nor silently replaces it)."""

    claimed: Decimal
    promise: Promise | None
    plan: InstallmentPlan | None
    next_installment: Installment | None

    @property
    def anything(self) -> bool:
        return bool(self.claimed) or self.promise is not None or self.plan is not None


def agreed_so_far(account: Account) -> Agreed:
    claimed = sum((c.amount or Decimal(0) for c in account.claims if c.status == "pending"), Decimal(0))
    promise = next((p for p in reversed(account.promises) if p.status == "pending"), None)
    plan = next((p for p in reversed(account.plans) if p.status == "active"), None)
    upcoming = [i for i in plan.installments if i.status == "pending"] if plan is not None else []
    return Agreed(claimed, promise, plan, upcoming[0] if upcoming else None)


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


# What the "Yes" button of each "do you mean ...?" question does, so a typed "iya" does the same.
CONFIRMED_STEP = {
    "/dispute_debt": "dispute_form",
    "/stop_contact": "action_stop_contact",
    "/request_human": "action_request_human",
}


def confirmation_asked(tracker: Tracker) -> str | None:
    """The "Yes" payload of the confirmation the bot's last message asked, if it asked one."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            return next((b.get("payload") for b in buttons if b.get("payload") in CONFIRMED_STEP), None)
    return None


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


__all__ = [
    "CONFIRMED_STEP",
    "confirmation_asked",
    "FORM_ANSWER_INTENTS",
    "Agreed",
    "agreed_so_far",
    "ActionDeps",
    "TagihAction",
    "TurnContext",
    "latest_intent",
    "latest_text",
    "local_today",
]
