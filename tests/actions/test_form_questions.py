"""A form never puts the same question a third time in a row (issue: "no question more than twice")."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.forms import asks_again, unusable_answers

FORM_SLOTS = ("promise_date", "promise_amount", "promise_confirmed")


def user(text: str, intent: str = "inform") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def slot(name: str, value: object) -> dict:
    return {"event": "slot", "name": name, "value": value}


def tracker(*events: dict) -> Tracker:
    start = [{"event": "active_loop", "name": "promise_form"}, slot("requested_slot", "promise_date")]
    return Tracker("s", {}, {}, [*start, *events], False, None, {"name": "promise_form"}, "action_listen")


def test_each_unusable_answer_to_the_same_question_counts():
    assert unusable_answers(tracker(user("kapan2")), "promise_date", FORM_SLOTS) == 1
    second = tracker(user("kapan2"), slot("promise_date", None), slot("requested_slot", "promise_date"), user("ntar"))
    assert unusable_answers(second, "promise_date", FORM_SLOTS) == 2


def test_side_questions_count_too_since_the_question_is_put_again_after_them():
    events = tracker(user("bayarnya kemana?", "ask_payment_method"), user("ntar"))
    assert unusable_answers(events, "promise_date", FORM_SLOTS) == 2


def test_a_usable_answer_or_another_question_starts_the_count_again():
    used = tracker(user("kapan2"), user("jumat"), slot("promise_date", "2026-11-27"), user("hmm"))
    assert unusable_answers(used, "promise_date", FORM_SLOTS) == 1
    confirming = tracker(user("jumat"), slot("promise_date", "2026-11-27"), slot("requested_slot", "promise_confirmed"))
    assert unusable_answers(tracker(*confirming.events[2:], user("hmm")), "promise_confirmed", FORM_SLOTS) == 1
    moved = tracker(user("kapan2"), slot("requested_slot", "promise_amount"), user("ntar"))
    assert unusable_answers(moved, "promise_amount", FORM_SLOTS) == 1


def test_what_counts_as_asking_again():
    assert asks_again(None, "promise_date")  # not an answer: rules answer it, the form asks again
    assert asks_again({"promise_date": None}, "promise_date")
    assert not asks_again({"promise_date": "2026-11-27"}, "promise_date")
    # a correction at the confirmation changes the date and asks to confirm the new one: usable
    assert not asks_again({"promise_date": "2026-12-05", "promise_confirmed": None}, "promise_confirmed")


def test_a_confirmation_in_between_is_not_an_unusable_answer():
    events = tracker(
        user("jgn chat mulu", "stop_contact"),  # asked "do you mean stop messages?"
        user("/keep_going", "keep_going"),  # "no": the form asks again
        user("ntar"),
    )
    assert unusable_answers(events, "promise_date", FORM_SLOTS) == 1
