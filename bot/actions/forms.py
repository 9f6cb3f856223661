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

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        activating = (tracker.active_loop or {}).get("name") != self.form
        requested = None if activating else tracker.get_slot("requested_slot")
        with self.turn(tracker) as ctx:
            updates = self.validate_turn(ctx, dispatcher, tracker, requested)
        if not updates:
            return []
        return [SlotSet(key, value) for key, value in updates.items()]

    def validate_turn(
        self,
        ctx: TurnContext,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        requested: str | None,
    ) -> dict[str, Any] | None:
        raise NotImplementedError
