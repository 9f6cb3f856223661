"""Session start and the informational flows (balance, how to pay)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import TagihAction, TurnContext, agreed_so_far, latest_text
from bot.actions.forms import TagihFormValidator
from bot.db.models import Account
from bot.domain.amounts import amount_meant
from bot.domain.dates import parse_due_date
from bot.domain.message_parts import says_will_pay
from bot.domain.references import virtual_account_for
from bot.domain.schedule import promise_problem
from bot.services.audit import audit
from bot.services.identity import mentioned_account, mentions_ref, open_accounts


def account_buttons(accounts: list[Account]) -> list[dict[str, str]]:
    return [{"title": a.ref, "payload": f'/inform{{"account_ref":"{a.ref}"}}'} for a in accounts]


def offer_other_accounts(
    action: TagihAction, dispatcher: CollectingDispatcher, ctx: TurnContext, response: str = "utter_other_accounts"
) -> None:
    """The debtor's other open accounts, each a button that makes it the one the conversation is about."""
    account, lang = ctx.account, ctx.language
    assert account is not None
    others = [a for a in open_accounts(account.debtor, now=ctx.now) if a.id != account.id]
    if not others:
        return
    listing = ", ".join(f"{a.ref} ({action.money(a.balance, a, lang)})" for a in others)
    message = action.deps.responses.render(
        response,
        lang,
        accounts=listing,
        count=len(others) + 1,
        account_ref=account.ref,
        balance=action.money(account.balance, account, lang),
    )
    dispatcher.utter_message(**{**message, "buttons": account_buttons(others)})


def accounts_offered_this_turn(tracker: Tracker) -> bool:
    """Whether a reply of this turn already offered the other accounts (as buttons)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") != "bot":
            continue
        buttons = (event.get("data") or {}).get("buttons") or []
        if any(str(b.get("payload", "")).startswith('/inform{"account_ref"') for b in buttons):
            return True
    return False


class ActionInform(TagihAction):
    """A bare answer outside any form. A verified debtor naming one of their accounts switches the
    conversation to it (the buttons of the account choice send exactly that)."""

    action_name = "action_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            account, lang = ctx.account, ctx.language
            text = latest_text(tracker)  # a button's payload carries the number in its text too
            if account is None or ctx.conversation is None or not mentions_ref(text):
                self.say(dispatcher, "utter_how_can_i_help", lang)
                return []
            chosen = mentioned_account(account.debtor, text)  # turn() has already moved to it
            if chosen is None:
                mine = open_accounts(account.debtor, now=ctx.now) or [account]
                self.say(dispatcher, "utter_not_your_account", lang, accounts=", ".join(a.ref for a in mine))
                return []
            self.say(
                dispatcher,
                "utter_account_chosen",
                lang,
                account_ref=chosen.ref,
                balance=self.money(chosen.balance, chosen, lang),
                due_date=self.day(chosen.due_date, lang),
            )
            self.tell_agreed(dispatcher, ctx, agreed_so_far(chosen))
            return [SlotSet("account_ref", chosen.ref)]


class ActionSessionStart(TagihAction):
    """Seeds a new Rasa session from what the database knows about this sender.

    A web chat is anonymous, so its verification lapses with the session; channel identities
    (a WhatsApp number on file, a linked Telegram chat) stay verified.
    """

    action_name = "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        with self.turn(tracker) as ctx:
            conversation = ctx.conversation
            language: str = self.deps.settings.default_language
            verified = False
            if conversation is not None:
                if conversation.channel == "web" and conversation.verified:
                    conversation.verified = False
                    conversation.account_id = None
                language = conversation.language or language
                verified = conversation.verified
            events += [
                SlotSet("language", language),
                SlotSet("verified", verified),
                SlotSet("company_name", self.deps.settings.company_name),
            ]
            if verified and ctx.conversation is not None and ctx.conversation.account_id:
                account = ctx.session.get(Account, ctx.conversation.account_id)
                if account is not None:
                    events += [
                        SlotSet("account_ref", account.ref),
                        SlotSet("debtor_name", account.debtor.name.split()[0]),
                    ]
        events.append(ActionExecuted("action_listen"))
        return events


class ActionReminderSent(TagihAction):
    """Runs when the scheduler records a reminder (``EXTERNAL_reminder``): the conversation now
    knows which debt it is about, so a reply such as "ok besok sy bayar" is a promise for it.
    The debtor was reached on a channel identity on file, so the conversation counts as verified.
    Says nothing: the reminder text itself goes out through the channel."""

    action_name = "action_reminder_sent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        entities = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities") or []}
        events: list[EventType] = [SlotSet("last_reminder", entities.get("reminder_stage"))]
        with self.turn(tracker) as ctx:
            conversation = ctx.conversation
            if conversation is None or not conversation.verified or ctx.account is None:
                return events
            events += [
                SlotSet("verified", True),
                SlotSet("account_ref", ctx.account.ref),
                SlotSet("debtor_name", ctx.account.debtor.name.split()[0]),
                SlotSet("language", conversation.language or ctx.language),
            ]
        return events


def _require_account(action: TagihAction, ctx: TurnContext, dispatcher: CollectingDispatcher) -> bool:
    """Defence in depth: never disclose anything about a debt to an unverified sender."""
    if ctx.account is None:
        action.say(dispatcher, "utter_not_verified", ctx.language)
        return False
    return True


class ActionAskBalance(TagihAction):
    action_name = "action_ask_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if not _require_account(self, ctx, dispatcher):
                return []
            account, lang = ctx.account, ctx.language
            assert account is not None
            balance = account.balance
            if balance <= 0:
                self.say(dispatcher, "utter_balance_settled", lang, account_ref=account.ref)
                return []
            agreed = agreed_so_far(account)
            dpd = account.days_past_due(ctx.now)
            responses = self.deps.responses
            # an arrangement under way is what matters, not how late the original due date was
            on_track = agreed.promise is not None or agreed.plan is not None
            overdue = responses.render("utter_fragment_overdue", lang, dpd=dpd)["text"] if dpd and not on_track else ""
            fees = (
                responses.render("utter_fragment_fees", lang, fees=self.money(account.fees, account, lang))["text"]
                if account.fees
                else ""
            )
            self.say(
                dispatcher,
                "utter_balance",
                lang,
                account_ref=account.ref,
                balance=self.money(balance, account, lang),
                due_date=self.day(account.due_date, lang),
                overdue=overdue,
                fees=fees,
            )
            self.tell_agreed(dispatcher, ctx, agreed)
            if not accounts_offered_this_turn(tracker):  # right after the identity check they just were
                offer_other_accounts(self, dispatcher, ctx)
            promised = promise_in(ctx, TagihFormValidator.turn_text(tracker, None))
            if promised:  # "brp sisanya? mau sy lunasin jumat": the promise is asked to be confirmed
                return [*(SlotSet(name, value) for name, value in promised.items()), FollowupAction("promise_form")]
            if not on_track:
                self.offer_early_settlement(dispatcher, ctx)
        return []


def promise_in(ctx: TurnContext, text: str) -> dict[str, str]:
    """A promise (date and amount within the policy) carried by a message that asked something else."""
    account = ctx.account
    if account is None or not says_will_pay(text):
        return {}
    promised = parse_due_date(text, today=ctx.today, language=ctx.language)
    if promised is None or promise_problem(promised, today=ctx.today, max_days=ctx.policy.max_promise_days):
        return {}
    amount = amount_meant(text, account.balance)
    if amount is None or not 0 < amount <= account.balance:
        return {}
    return {"promise_date": promised.isoformat(), "promise_amount": str(amount)}


def payment_instructions(action: TagihAction, ctx: TurnContext, account: Account, language: str) -> str:
    """The policy's instructions with the account's virtual account (or one derived from its ref)."""
    settings = action.deps.settings
    virtual_account = virtual_account_for(account.ref, account.virtual_account, settings.virtual_account_prefix)
    return ctx.collection_policy.instructions(
        language, virtual_account=virtual_account, company=settings.company_name, account_ref=account.ref
    )


class ActionPaymentMethod(TagihAction):
    action_name = "action_payment_method"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if not _require_account(self, ctx, dispatcher):
                return []
            account, lang = ctx.account, ctx.language
            assert account is not None
            self.say(
                dispatcher,
                "utter_payment_method",
                lang,
                account_ref=account.ref,
                balance=self.money(account.balance, account, lang),
                instructions=payment_instructions(self, ctx, account, lang),
            )
        return []


class ActionRequestDiscount(TagihAction):
    """A discount or waiver asked for: the policy's early-settlement offer when there is one, otherwise
    what the bot can do instead (installments, or a person to consider it). Recorded for agents."""

    action_name = "action_request_discount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if not _require_account(self, ctx, dispatcher):
                return []
            account = ctx.account
            assert account is not None
            offered = ctx.policy.early_settlement is not None and account.balance > 0
            if offered:
                self.offer_early_settlement(dispatcher, ctx)
            else:
                self.say(dispatcher, "utter_discount_not_available", ctx.language)
            audit(
                ctx.session,
                actor="bot",
                action="discount.requested",
                entity_type="account",
                entity_id=account.ref,
                conversation_id=ctx.conversation.id if ctx.conversation else None,
                details={"offered_early_settlement": offered, "text": latest_text(tracker)[:300]},
            )
        return []
