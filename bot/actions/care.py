"""Payment claims, hardship, disputes, handoff, opt-out, language switch and fallback."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import (
    CONFIRMED_STEP,
    FORM_ANSWER_INTENTS,
    TagihAction,
    TurnContext,
    confirmation_asked,
    latest_intent,
    latest_text,
)
from bot.actions.forms import TagihFormValidator
from bot.domain.amounts import parse_amount
from bot.domain.claims import claimable
from bot.domain.dates import parse_due_date, parse_paid_date
from bot.domain.message_parts import split_rest
from bot.domain.references import parse_reference
from bot.services.arrangements import open_dispute, record_hardship
from bot.services.contact import debtor_asked_to_stop
from bot.services.handoffs import open_handoff, ticket_number
from bot.services.language import requested_language

NO_REFERENCE = re.compile(
    r"^\s*(tidak|tdk|gak|ga|gk|nggak|enggak|belum|blm)?\s*(ada|punya)?\s*$|^\s*(none|no|nope|n/?a|-)\s*$", re.I
)
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
        "third_party",
        "insult",
    }
)
# Never part of another flow's answer: a complaint, a person in distress, questions about the bot.
CARE_INTENTS = frozenset({"complain_conduct", "distress", "ask_if_bot", "ask_new_loan", "third_party", "insult"})
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
            reference, none_given = parse_reference(text)
            answered = reference is not None or none_given or intent == "deny" or NO_REFERENCE.match(text)
            if answered and intent not in CARE_INTENTS:
                return {"claim_reference": (reference or "")[:120]}
            if intent in ESCAPE_INTENTS:
                return None
            self.say(dispatcher, "utter_invalid_reference", lang)
            return {"claim_reference": None}
        if requested is None:
            # "sy udh tf 500rb kmrn, sisanya jumat depan": the claim, then a promise for the rest
            claim_part, rest_part = split_rest(text)
            rest = parse_due_date(rest_part, today=ctx.today, language=lang) if rest_part else None
            if rest is not None:
                updates["rest_promise_date"] = rest.isoformat()
                text = claim_part
            reference, _ = parse_reference(text)
            if reference:
                updates["claim_reference"] = reference[:120]
        if requested in (None, "claim_paid_on"):
            paid_on = parse_paid_date(text, today=ctx.today, language=lang)
            if paid_on is not None:
                if claimable(paid_on, today=ctx.today):
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
            self.record_claim(
                dispatcher, ctx, amount=amount, paid_on=paid_on, reference=tracker.get_slot("claim_reference") or None
            )
            rest_date, rest = tracker.get_slot("rest_promise_date"), account.balance - amount
            if rest_date and rest > 0:
                # the same message promised the rest: the promise form only asks to confirm it
                return [
                    *reset,
                    SlotSet("rest_promise_date", None),
                    SlotSet("promise_date", rest_date),
                    SlotSet("promise_amount", str(rest)),
                    FollowupAction("promise_form"),
                ]
        return [*reset, SlotSet("rest_promise_date", None)]


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
            if not acts_at_once(tracker, "dispute_debt"):
                # a dispute pauses collection: unless the message leaves no doubt, one short question first
                self.say(dispatcher, CONFIRM_FIRST["dispute_debt"], ctx.language)
                return {"dispute_reason": NOT_DISPUTED}
            # A detailed first message already says what is wrong; a short one gets a question.
            return {"dispute_reason": text.strip()} if len(text.split()) >= 7 else None
        if intent in {"request_human", "stop_contact", "change_language", *CARE_INTENTS} or text.startswith("/"):
            return None
        return {"dispute_reason": text.strip()[:1000]}


class ActionOpenDispute(TagihAction):
    action_name = "action_open_dispute"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if tracker.get_slot("dispute_reason") == NOT_DISPUTED:
                return [SlotSet("dispute_reason", None)]  # the debtor was asked whether they dispute it
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
        return self.hand_over(dispatcher, tracker)

    def hand_over(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
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
        return self.stop(dispatcher, tracker)

    def stop(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if not acts_at_once(tracker, "stop_contact"):
            # stopping every message is not undone by the bot: unless the message leaves no doubt, ask
            self.say(dispatcher, CONFIRM_FIRST["stop_contact"], self.language(tracker))
            return []
        with self.turn(tracker) as ctx:
            conversation = ctx.conversation
            if conversation is not None:
                debtor_asked_to_stop(ctx.session, conversation, ctx.account)
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
                ctx.conversation.language_chosen = True  # kept, whatever language they write next
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


# Acted on only when the classifier is sure; otherwise asked about first (nlu/config.yml: strict).
CONFIRM_FIRST = {
    "dispute_debt": "utter_confirm_dispute_debt",
    "stop_contact": "utter_confirm_stop_contact",
    "request_human": "utter_confirm_request_human",
}


# How sure the classifier must be to act on a typed message at once; below it, one short question
# first (buttons and the confirmation's own "yes" are always sure).
ACT_AT_ONCE = {"dispute_debt": 0.95, "stop_contact": 0.9}
NOT_DISPUTED = "-"


def acts_at_once(tracker: Tracker, intent: str) -> bool:
    """Whether the message that asked for ``intent`` (the latest one that did: a flow may resume after
    the identity check) asked clearly enough to act without asking."""
    latest = (tracker.latest_message or {}).get("intent") or {}
    if latest.get("name") == "affirm" and confirmation_asked(tracker):
        return True  # "iya" to the question this asks
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parsed = (event.get("parse_data") or {}).get("intent") or {}
        if parsed.get("name") != intent:
            continue
        if (event.get("text") or "").lstrip().startswith("/"):
            return True
        return (parsed.get("confidence") or 0.0) >= ACT_AT_ONCE[intent]
    return True


def held_back_intent(tracker: Tracker) -> str | None:
    """The intent a turn held back as ``nlu_fallback`` was most likely meant as, when it is one that
    stops collection or contact (the classifier was not sure enough to act on it)."""
    ranking = [e.get("name") for e in tracker.latest_message.get("intent_ranking") or []]
    guesses = [name for name in ranking if name != "nlu_fallback"]
    return guesses[0] if guesses and guesses[0] in CONFIRM_FIRST else None


class ActionKeepGoing(TagihAction):
    """ "No" to "do you mean ...?": nothing recorded; a form under way asks its question again."""

    action_name = "action_keep_going"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        self.say(dispatcher, "utter_keep_going", self.language(tracker))
        loop = tracker.active_loop_name
        return [FollowupAction(loop)] if loop else []


class ActionAffirm(TagihAction):
    """A typed "yes" outside an answer a form can use: to "do you mean ...?" it is that question's Yes
    button; otherwise the bot says what it can help with."""

    action_name = "action_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        asked = confirmation_asked(tracker)
        if asked is None:
            self.say(dispatcher, "utter_how_can_i_help", self.language(tracker))
            return []
        step = CONFIRMED_STEP[asked]
        if step == "action_stop_contact":
            return ActionStopContact(self.deps).stop(dispatcher, tracker)
        if step == "action_request_human":
            return ActionRequestHuman(self.deps).hand_over(dispatcher, tracker)
        if not tracker.get_slot("verified"):
            return [SlotSet("pending_flow", "dispute_debt"), FollowupAction("identity_form")]
        return [FollowupAction(step)]


class ActionDefaultFallback(TagihAction):
    """Handles messages the bot cannot act on: unclear ones (ask to rephrase) and off-topic ones
    (say what the bot can do). After two such messages in a row it offers a person."""

    action_name = "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = self.language(tracker)
        intent = latest_intent(tracker)
        loop = tracker.active_loop_name
        meant = held_back_intent(tracker) if intent == "nlu_fallback" else None
        if meant is not None:
            # one short question before a step that stops collection or contact; the form waits
            self.say(dispatcher, CONFIRM_FIRST[meant], language)
            return []
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
