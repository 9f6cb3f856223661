"""Base class for form validators: one ``validate_turn`` per form instead of scattered methods."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions._base import TagihAction, TurnContext, confirmation_asked, latest_intent

# Messages that make the bot ask "do you mean ...?" (or answer that question): not answers to the form.
CONFIRMING = frozenset({"keep_going", "stop_contact", "dispute_debt", "request_human"})


def _about_a_confirmation(event: dict[str, Any]) -> bool:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    ranking = (event.get("parse_data") or {}).get("intent_ranking") or []
    held_back = next((r.get("name") for r in ranking if r.get("name") != "nlu_fallback"), None)
    return intent in CONFIRMING or (intent == "nlu_fallback" and held_back in CONFIRMING)


def asks_again(updates: dict[str, Any] | None, requested: str) -> bool:
    """The form will put the same question again: the answer was not an answer, or gave nothing usable
    (a correction that changes another value is usable)."""
    if updates is None:
        return True
    return requested in updates and all(value is None for value in updates.values())


def unusable_answers(tracker: Tracker, requested: str, form_slots: Iterable[str]) -> int:
    """Messages, this one included, since the form asked for ``requested`` and got nothing it could
    use. A side question it answered counts too: the question was put again after it all the same."""
    slots = set(form_slots)
    count, asking = 0, False
    for event in tracker.events:
        kind, name, value = event.get("event"), event.get("name"), event.get("value")
        if kind == "active_loop" or (kind == "slot" and name == "requested_slot"):
            asking = kind == "slot" and value == requested
            count = count if asking else 0
        elif kind == "slot" and name in slots and value is not None:
            count = 0  # an answer was used: what follows is a new question
        elif kind == "user" and asking and not _about_a_confirmation(event):
            count += 1
    return count


class TagihFormValidator(TagihAction, FormValidationAction):
    """Validates a whole turn of a form.

    ``validate_turn`` returns the slot updates, or ``None`` to let the form reject the turn
    (the debtor asked something else; rules then handle it and the form resumes after).
    ``requested`` is ``None`` when the form is being activated by the message that triggered it.
    """

    form = ""
    # Slot values that end this form with nothing recorded. With them, a question is never asked a
    # third time in a row: after two answers it could not use, the debtor is offered a person instead.
    ended: dict[str, Any] | None = None

    def name(self) -> str:
        return f"validate_{self.form}"

    def form_name(self) -> str:
        return self.form

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested = None if self.is_activation(tracker) else tracker.get_slot("requested_slot")
        if requested is not None and latest_intent(tracker) == "affirm" and confirmation_asked(tracker):
            return []  # "iya" to "do you mean ...?": the rules take it (action_affirm), not the form
        with self.turn(tracker) as ctx:
            updates = self.validate_turn(ctx, dispatcher, tracker, requested)
            if self.ended is not None and requested and asks_again(updates, requested):
                if unusable_answers(tracker, requested, self.ended) >= 2:
                    self.say(dispatcher, "utter_asked_twice", ctx.language)
                    updates = dict(self.ended)
        if not updates:
            return []
        return [SlotSet(key, value) for key, value in updates.items()]

    def is_activation(self, tracker: Tracker) -> bool:
        """True unless this form was already running when the latest user message arrived.

        (Rasa has already added this form's activation to the tracker it sends, so the
        tracker's current ``active_loop`` cannot tell.)
        """
        seen_user = False
        for event in reversed(tracker.events):
            kind = event.get("event")
            if kind == "user":
                seen_user = True
            elif seen_user and kind == "active_loop":
                return event.get("name") != self.form
        return True

    @staticmethod
    def turn_text(tracker: Tracker, requested: str | None) -> str:
        """The message to read slots from.

        On activation that is the message that asked for this flow, which may lie before an
        identity check (``pending_flow`` remembers its intent); otherwise the latest message.
        """
        if requested is None:
            wanted = tracker.get_slot("pending_flow")
            for event in reversed(tracker.events):
                if event.get("event") != "user":
                    continue
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                if intent == wanted:
                    return event.get("text") or ""
        return tracker.latest_message.get("text") or ""

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        raise NotImplementedError
