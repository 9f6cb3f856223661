"""Identity check: account number plus birth date, with a limited number of attempts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import func, select

from bot.actions._base import FORM_ANSWER_INTENTS, TagihAction, TurnContext, latest_intent, latest_text
from bot.actions.forms import TagihFormValidator
from bot.db.models import AuditLog
from bot.domain.dates import parse_birth_date
from bot.services.identity import find_ref_candidate, verify_identity

LOCKED = "-"
FAILURE_WINDOW = timedelta(hours=24)


def recent_failures(ctx: TurnContext) -> int:
    if ctx.conversation is None:
        return 0
    return (
        ctx.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.conversation_id == ctx.conversation.id,
                AuditLog.action == "identity.failed",
                AuditLog.at >= ctx.now - FAILURE_WINDOW,
            )
        )
        or 0
    )


class ValidateIdentityForm(TagihFormValidator):
    form = "identity_form"

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        max_attempts = self.deps.settings.max_identity_attempts
        if ctx.conversation is None or recent_failures(ctx) >= max_attempts:
            return {"account_ref": LOCKED, "birth_date": LOCKED}
        if ctx.conversation.verified:
            return {"account_ref": LOCKED, "birth_date": LOCKED}
        if requested is None:
            return None
        text, intent = latest_text(tracker), latest_intent(tracker)
        if requested == "account_ref":
            candidate = find_ref_candidate(text)
            if candidate:
                return {"account_ref": candidate}
            if intent not in FORM_ANSWER_INTENTS:
                return None
            self.say(dispatcher, "utter_invalid_account_ref", ctx.language)
            return {"account_ref": None}
        if requested == "birth_date":
            born = parse_birth_date(text)
            if born is None:
                if intent not in FORM_ANSWER_INTENTS:
                    return None
                self.say(dispatcher, "utter_invalid_birth_date", ctx.language)
                return {"birth_date": None}
            account = verify_identity(
                ctx.session,
                ctx.conversation,
                account_ref=tracker.get_slot("account_ref") or "",
                birth_date=born,
            )
            if account is not None:
                return {"birth_date": born.isoformat()}
            ctx.session.flush()
            remaining = max_attempts - recent_failures(ctx)
            if remaining <= 0:
                return {"account_ref": LOCKED, "birth_date": LOCKED}
            self.say(dispatcher, "utter_identity_mismatch", ctx.language, remaining=remaining)
            return {"account_ref": None, "birth_date": None}
        return None


class ActionVerificationDone(TagihAction):
    action_name = "action_verification_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with self.turn(tracker) as ctx:
            if ctx.account is None:
                self.say(dispatcher, "utter_identity_locked", ctx.language)
                return [
                    SlotSet("verified", False),
                    SlotSet("account_ref", None),
                    SlotSet("birth_date", None),
                ]
            debtor = ctx.account.debtor
            language = debtor.language
            first_name = debtor.name.split()[0]
            self.say(dispatcher, "utter_identity_verified", language, debtor_name=first_name)
            return [
                SlotSet("verified", True),
                SlotSet("language", language),
                SlotSet("debtor_name", first_name),
                SlotSet("account_ref", ctx.account.ref),
                SlotSet("birth_date", None),
            ]
