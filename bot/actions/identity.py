"""Identity check: account number, then date of birth, then (where the debtor can be reached on a
channel on file) a one-time code.

The app reads the date and the code before the dialogue does (bot/services/identity_checks.py):
this form only ever sees a token standing for the outcome, so the answers are in neither database.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions._base import FORM_ANSWER_INTENTS, TagihAction, TurnContext, latest_intent, latest_text
from bot.actions.forms import TagihFormValidator
from bot.actions.info import offer_other_accounts
from bot.db.models import IdentityAttempt
from bot.services.identity import find_ref_candidate
from bot.services.identity_checks import (
    IDENTITY_ENTITY,
    IdentityLimits,
    close_challenges,
    conversation_failures,
    current_challenge,
    open_challenge,
    take_attempt,
)

LOCKED = "-"  # a slot the form need not ask (verified, or no further try allowed)
THROTTLED = "wait"  # ended for now: the sender was told how long to wait
DONE = "ok"
ALL_SLOTS = ("account_ref", "birth_date", "identity_code")


def _ended(marker: str = LOCKED) -> dict[str, Any]:
    return {"account_ref": LOCKED, "birth_date": marker, "identity_code": LOCKED}


def _restart() -> dict[str, Any]:
    return dict.fromkeys(ALL_SLOTS)


def identity_token(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == IDENTITY_ENTITY and isinstance(entity.get("value"), str):
            return entity["value"]
    return None


class ValidateIdentityForm(TagihFormValidator):
    form = "identity_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        limits = IdentityLimits.from_settings(self.deps.settings)
        if ctx.conversation is None:
            return _ended()
        token = identity_token(tracker)
        attempt = take_attempt(ctx.session, ctx.conversation, token, now=ctx.now) if token else None
        if ctx.conversation.verified:
            return _ended(DONE)
        if attempt is None and conversation_failures(ctx.session, ctx.conversation, ctx.now) >= limits.per_conversation:
            return _ended()
        if requested is None:
            return None
        text, intent = latest_text(tracker), latest_intent(tracker)
        if attempt is not None:
            return self._answered(ctx, dispatcher, attempt, limits)
        if requested == "account_ref":
            candidate = find_ref_candidate(text)
            if candidate:
                open_challenge(ctx.session, ctx.conversation, ref=candidate, now=ctx.now)
                return {"account_ref": candidate}
            if intent not in FORM_ANSWER_INTENTS:
                return None
            self.say(dispatcher, "utter_invalid_account_ref", ctx.language)
            return {"account_ref": None}
        if intent not in FORM_ANSWER_INTENTS and not any(ch.isdigit() or ch == "•" for ch in text):
            return None  # a question in the middle of the check: rules answer it, the form resumes
        if requested == "birth_date":
            # The app found no date in the answer (or the check had run out): ask again.
            if current_challenge(ctx.session, ctx.conversation) is None:
                open_challenge(ctx.session, ctx.conversation, ref=tracker.get_slot("account_ref") or "", now=ctx.now)
            self.say(dispatcher, "utter_invalid_birth_date", ctx.language)
            return {"birth_date": None}
        if requested == "identity_code":
            if current_challenge(ctx.session, ctx.conversation) is None:
                self.say(dispatcher, "utter_identity_code_expired", ctx.language)
                return _restart()
            self.say(dispatcher, "utter_invalid_identity_code", ctx.language)
            return {"identity_code": None}
        return None

    def _answered(
        self, ctx: TurnContext, dispatcher: CollectingDispatcher, attempt: IdentityAttempt, limits: IdentityLimits
    ) -> dict[str, Any]:
        """What the sender is told about an answer the app has checked (see identity_checks)."""
        assert ctx.conversation is not None
        reply, language = attempt.reply, ctx.language
        if reply == "verified":
            return _ended(DONE)
        if reply == "code_prompt":
            return {"birth_date": DONE, "identity_code": None}
        if reply in ("throttled", "locked"):
            close_challenges(ctx.session, ctx.conversation, now=ctx.now)
            if reply == "locked":
                return _ended()
            minutes = max(1, -(-(attempt.wait_seconds or 60) // 60))
            self.say(dispatcher, "utter_identity_throttled", language, minutes=minutes)
            return _ended(THROTTLED)
        remaining = limits.per_conversation - conversation_failures(ctx.session, ctx.conversation, ctx.now)
        if reply == "code_mismatch":
            challenge = current_challenge(ctx.session, ctx.conversation)
            left = limits.code_attempts - (challenge.attempts if challenge else limits.code_attempts)
            if challenge is not None and left > 0 and remaining > 0:
                self.say(dispatcher, "utter_identity_code_mismatch", language, remaining=left)
                return {"identity_code": None}
        if remaining <= 0:
            close_challenges(ctx.session, ctx.conversation, now=ctx.now)
            return _ended()
        if reply == "expired":
            self.say(dispatcher, "utter_identity_code_expired", language)
        else:  # mismatch, code_failed
            self.say(dispatcher, "utter_identity_mismatch", language, remaining=remaining)
        return _restart()


class ActionVerificationDone(TagihAction):
    action_name = "action_verification_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.conversation is not None:
                close_challenges(ctx.session, ctx.conversation, now=ctx.now)
            if ctx.account is None:
                if tracker.get_slot("birth_date") != THROTTLED:  # a throttled sender was told already
                    self.say(dispatcher, "utter_identity_locked", ctx.language)
                return [SlotSet("verified", False), *(SlotSet(name, None) for name in ALL_SLOTS)]
            debtor = ctx.account.debtor
            # the language they write in (or chose), not the profile's: that is for reminders
            language = (ctx.conversation.language if ctx.conversation else None) or debtor.language
            first_name = debtor.name.split()[0]
            self.say(dispatcher, "utter_identity_verified", language, debtor_name=first_name)
            offer_other_accounts(
                self,
                dispatcher,
                replace(ctx, language=language),
                "utter_which_account",
            )
            return [
                SlotSet("verified", True),
                SlotSet("language", language),
                SlotSet("debtor_name", first_name),
                SlotSet("account_ref", ctx.account.ref),
                SlotSet("birth_date", None),
                SlotSet("identity_code", None),
            ]
