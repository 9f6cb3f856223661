"""Steps that stop collection or contact act at once only on a message that leaves no doubt."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.care import acts_at_once


def user(text: str, intent: str, confidence: float) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def tracker(*events: dict) -> Tracker:
    return Tracker("s", {}, events[-1]["parse_data"], list(events), False, None, {}, "action_listen")


def test_a_clear_message_acts_and_an_unsure_one_asks():
    assert acts_at_once(tracker(user("sy gk pernah minjem di sini", "dispute_debt", 0.99)), "dispute_debt")
    assert not acts_at_once(tracker(user("lho 2jt? kok bisa", "dispute_debt", 0.86)), "dispute_debt")
    assert not acts_at_once(tracker(user("jgn chat mulu napa", "stop_contact", 0.82)), "stop_contact")


def test_the_confirmation_button_always_acts():
    assert acts_at_once(tracker(user("/dispute_debt", "dispute_debt", 1.0)), "dispute_debt")
    assert acts_at_once(tracker(user("/stop_contact", "stop_contact", 0.5)), "stop_contact")


def test_a_flow_resumed_after_the_identity_check_is_judged_by_the_message_that_asked_for_it():
    events = (user("tagihan ini salah, sy udh lunas", "dispute_debt", 0.7), user("1990-03-01", "inform", 0.99))
    assert not acts_at_once(tracker(*events), "dispute_debt")


def bot(text: str, *payloads: str) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": [{"title": p, "payload": p} for p in payloads]}}


def test_a_typed_yes_answers_the_confirmation_the_bot_just_asked():
    from bot.actions._base import confirmation_asked

    asked = tracker(
        user("ngapain wa terus", "nlu_fallback", 0.5),
        bot("Maksud Anda, kami berhenti mengirim pesan?", "/stop_contact", "/keep_going"),
        user("iya", "affirm", 0.98),
    )
    assert confirmation_asked(asked) == "/stop_contact"
    assert acts_at_once(asked, "stop_contact")
    other = tracker(
        bot("Konfirmasi: Rp500.000 pada 27 November. Benar?", "/affirm", "/deny"), user("iya", "affirm", 0.98)
    )
    assert confirmation_asked(other) is None  # a form's own confirmation is the form's to read
