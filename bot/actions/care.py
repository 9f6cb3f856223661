"""Payment claims, hardship, disputes, handoff, opt-out, language switch and fallback."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import FORM_ANSWER_INTENTS, TagihAction, TurnContext, latest_intent, latest_text
from bot.actions.forms import TagihFormValidator
from bot.domain.amounts import parse_amount
from bot.domain.dates import parse_paid_date
from bot.services.arrangements import open_dispute, record_hardship, record_payment_claim
from bot.services.contact import record_opt_out
from bot.services.handoffs import open_handoff, ticket_number
from bot.services.language import requested_language
from bot.services.segments import next_segment

NO_REFERENCE = re.compile(
    r"^\s*(tidak|tdk|gak|ga|gk|nggak|enggak|belum|blm)?\s*(ada|punya)?\s*$|^\s*(none|no|nope|n/?a|-)\s*$", re.I
)
CLAIM_WINDOW_DAYS = 90
# Intents that leave a free-text question (reason, reference) for another flow.
ESCAPE_INTENTS = frozenset(
    {
        "request_human",
        "stop_contact",
        "change_language",
        "request_installment",
        "request_extension",
        "promise_to_pay",
        "ask_balance",
        "ask_payment_method",
        "complain_conduct",
        "distress",
        "ask_if_bot",
        "ask_new_loan",
        "request_discount",
    }
)
# Never part of another flow's answer: a complaint, a person in distress, questions about the bot.
CARE_INTENTS = frozenset({"complain_conduct", "distress", "ask_if_bot", "ask_new_loan"})
HARDSHIP_CUES = re.compile(
    r"phk|dipecat|di-?phk|sakit|rumah ?sakit|opname|meninggal|kecelakaan|bencana|banjir|usaha|"
    r"gaji|gajian|telat gaji|nganggur|pengangguran|bangkrut|rugi|cerai|lost (my )?job|laid off|fired|"
    r"sick|hospital|unemployed|salary|business|accident|medical",
    re.I,
)


def leave_loop(tracker: Tracker) -> list[EventType]:
    """Events that end whatever form is running, used when the conversation leaves the bot."""
    if tracker.active_loop and tracker.active_loop.get("name"):
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
    return []


class ValidatePaymentClaimForm(TagihFormValidator):
    form = "payment_claim_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        lang = ctx.language
        if ctx.account is None:
            return {"claim_paid_on": "-", "claim_amount": "-", "claim_reference": "-"}
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        updates: dict[str, Any] = {}
        if requested == "claim_reference":
            if intent in ESCAPE_INTENTS:
                return None
            reference = "" if intent == "deny" or NO_REFERENCE.match(text) else text.strip()[:120]
            return {"claim_reference": reference}
        if requested in (None, "claim_paid_on"):
            paid_on = parse_paid_date(text, today=ctx.today, language=lang)
            if paid_on is not None:
                if ctx.today - timedelta(days=CLAIM_WINDOW_DAYS) <= paid_on <= ctx.today:
                    updates["claim_paid_on"] = paid_on.isoformat()
                elif requested is not None:
                    self.say(dispatcher, "utter_invalid_claim_date", lang)
                    updates["claim_paid_on"] = None
        if requested in (None, "claim_amount"):
            amount = parse_amount(text)
            if amount is not None and amount > 0:
                updates["claim_amount"] = str(amount)
        if requested is not None and requested not in updates:
            if intent not in FORM_ANSWER_INTENTS and intent != "confirm_paid":
                return None
            response = "utter_invalid_claim_date" if requested == "claim_paid_on" else "utter_invalid_amount"
            self.say(dispatcher, response, lang)
            updates[requested] = None
        return updates


class ActionRecordPaymentClaim(TagihAction):
    action_name = "action_record_payment_claim"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(s, None) for s in ("claim_paid_on", "claim_amount", "claim_reference")]
        with self.turn(tracker) as ctx:
            account, lang = ctx.account, ctx.language
            if account is None:
                self.say(dispatcher, "utter_not_verified", lang)
                return reset
            amount = Decimal(tracker.get_slot("claim_amount"))
            paid_on = date.fromisoformat(tracker.get_slot("claim_paid_on"))
            record_payment_claim(
                ctx.session,
                account=account,
                conversation=ctx.conversation,
                amount=amount,
                paid_on=paid_on,
                reference=tracker.get_slot("claim_reference") or None,
            )
            self.say(
                dispatcher,
                "utter_claim_recorded",
                lang,
                amount=self.money(amount, account, lang),
                paid_on=self.day(paid_on, lang),
            )
        return reset


class ValidateHardshipForm(TagihFormValidator):
    form = "hardship_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        if requested is None:
            return {"hardship_reason": text} if HARDSHIP_CUES.search(text) else None
        if intent in ESCAPE_INTENTS or not text.strip() or text.startswith("/"):
            return None
        return {"hardship_reason": text.strip()[:500]}


class ActionRecordHardship(TagihAction):
    action_name = "action_record_hardship"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is not None:
                record_hardship(
                    ctx.session,
                    account=ctx.account,
                    conversation=ctx.conversation,
                    reason=tracker.get_slot("hardship_reason") or "",
                )
            self.say(dispatcher, "utter_hardship_recorded", ctx.language)
        return [SlotSet("hardship_reason", None)]


class ValidateDisputeForm(TagihFormValidator):
    form = "dispute_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        text, intent = self.turn_text(tracker, requested), latest_intent(tracker)
        if requested is None:
            # A detailed first message already says what is wrong; a short one gets a question.
            return {"dispute_reason": text.strip()} if len(text.split()) >= 7 else None
        if intent in {"request_human", "stop_contact", "change_language", *CARE_INTENTS} or text.startswith("/"):
            return None
        return {"dispute_reason": text.strip()[:1000]}


class ActionOpenDispute(TagihAction):
    action_name = "action_open_dispute"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is None or ctx.conversation is None:
                self.say(dispatcher, "utter_not_verified", ctx.language)
                return [SlotSet("dispute_reason", None)]
            handoff = open_dispute(
                ctx.session,
                account=ctx.account,
                conversation=ctx.conversation,
                reason=tracker.get_slot("dispute_reason") or "",
            )
            self.say(dispatcher, "utter_dispute_recorded", ctx.language, ticket=ticket_number(handoff))
        return [SlotSet("dispute_reason", None)]


class ActionRequestHuman(TagihAction):
    action_name = "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.conversation is None:
                return []
            reason = "fallback" if _trailing_fallbacks(tracker, skip_latest=True) >= 2 else "request_human"
            handoff = open_handoff(ctx.session, conversation=ctx.conversation, reason=reason, note=latest_text(tracker))
            self.say(dispatcher, "utter_handoff_opened", ctx.language, ticket=ticket_number(handoff))
        return leave_loop(tracker)


class ActionRecordComplaint(TagihAction):
    """A complaint about how the debt is collected: a ticket of its own (never a dispute, which would
    pause the debt as contested), the debtor's rights and where else to complain. No identity check:
    anyone may complain, and nothing about a debt is said."""

    action_name = "action_record_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.conversation is None:
                return []
            handoff = open_handoff(
                ctx.session, conversation=ctx.conversation, reason="complaint", note=latest_text(tracker)
            )
            self.say(dispatcher, "utter_complaint_recorded", ctx.language, ticket=ticket_number(handoff))
        return leave_loop(tracker)


class ActionRecordDistress(TagihAction):
    """Someone in distress: a caring answer with a crisis line first, then a priority handoff, whose
    being open keeps every reminder for the debtor back (the scheduler's rules gate). No identity
    check and no word about the debt."""

    action_name = "action_record_distress"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            self.say(dispatcher, "utter_distress_support", ctx.language)
            if ctx.conversation is not None:
                open_handoff(ctx.session, conversation=ctx.conversation, reason="distress", note=latest_text(tracker))
        return leave_loop(tracker)


class ActionStopContact(TagihAction):
    action_name = "action_stop_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            conversation = ctx.conversation
            if conversation is not None:
                record_opt_out(
                    ctx.session,
                    channel=conversation.channel,
                    address=conversation.sender_id,
                    debtor_id=conversation.debtor_id,
                    source="debtor_request",
                    conversation_id=conversation.id,
                )
                if ctx.account is not None:
                    ctx.account.segment = next_segment(ctx.account.segment, "stopped_contact")
            self.say(dispatcher, "utter_stop_confirmed", ctx.language)
        return leave_loop(tracker)


class ActionChangeLanguage(TagihAction):
    action_name = "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            current = ctx.language
            wanted = requested_language(latest_text(tracker)) or ("en" if current == "id" else "id")
            if ctx.conversation is not None:
                ctx.conversation.language = wanted
            if ctx.account is not None:
                ctx.account.debtor.language = wanted
            self.say(dispatcher, "utter_language_changed", wanted)
        return [SlotSet("language", wanted)]


def _trailing_fallbacks(tracker: Tracker, *, skip_latest: bool = False) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    user_events = [e for e in reversed(tracker.events) if e.get("event") == "user"]
    if skip_latest:
        user_events = user_events[1:]
    for event in user_events:
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in MISUNDERSTOOD:
            break
        count += 1
    return count


MISUNDERSTOOD = frozenset({"nlu_fallback", "out_of_scope"})
DEBT_FLOW_INTENTS = frozenset(
    {
        "ask_balance",
        "ask_payment_method",
        "confirm_paid",
        "promise_to_pay",
        "request_extension",
        "request_installment",
        "cannot_pay",
        "dispute_debt",
    }
)


class ActionDefaultFallback(TagihAction):
    """Handles messages the bot cannot act on: unclear ones (ask to rephrase) and off-topic ones
    (say what the bot can do). After two such messages in a row it offers a person."""

    action_name = "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = self.language(tracker)
        intent = latest_intent(tracker)
        loop = tracker.active_loop_name
        if loop and intent not in MISUNDERSTOOD:
            # A form was interrupted by a message no rule handles: explain, then let the form ask
            # again (without this the form stays rejected and every later turn falls back here).
            if loop == "identity_form" and intent in DEBT_FLOW_INTENTS:
                self.say(dispatcher, "utter_not_verified", language)
                return [SlotSet("pending_flow", intent), FollowupAction(loop)]
            self.say(dispatcher, "utter_form_continue", language)
            return [FollowupAction(loop)]
        if _trailing_fallbacks(tracker) >= 2:
            self.say(dispatcher, "utter_offer_human", language)
        elif intent == "out_of_scope":
            self.say(dispatcher, "utter_out_of_scope", language)
        else:
            self.say(dispatcher, "utter_rephrase", language)
        return [FollowupAction(loop)] if loop else []
