"""Base class for form validators: one ``validate_turn`` per form instead of scattered methods."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions._base import TagihAction, TurnContext


class TagihFormValidator(TagihAction, FormValidationAction):
    """Validates a whole turn of a form.

    ``validate_turn`` returns the slot updates, or ``None`` to let the form reject the turn
    (the debtor asked something else; rules then handle it and the form resumes after).
    ``requested`` is ``None`` when the form is being activated by the message that triggered it.
    """

    form = ""

    def name(self) -> str:
        return f"validate_{self.form}"

    def form_name(self) -> str:
        return self.form

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested = None if self.is_activation(tracker) else tracker.get_slot("requested_slot")
        with self.turn(tracker) as ctx:
            updates = self.validate_turn(ctx, dispatcher, tracker, requested)
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
