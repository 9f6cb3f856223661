"""The reply catalogue in nlu/domain.yml: both languages everywhere, rendering rules."""

from __future__ import annotations

import re

import pytest

from bot.dialogue.responses import (
    ResponseCatalogue,
    UnknownResponseError,
    expected_validation_warnings,
    responses_named_in_code,
)
from bot.web.app import DOMAIN_FILE

CATALOGUE = ResponseCatalogue.from_domain(DOMAIN_FILE)
PLACEHOLDER = re.compile(r"{([^{}\n]+)}")


@pytest.mark.parametrize("name", CATALOGUE.names())
def test_every_response_has_an_indonesian_and_an_english_variant_with_the_same_placeholders(name):
    indonesian = CATALOGUE.variant(name, "id")
    english = CATALOGUE.variant(name, "en")
    assert indonesian is not english, f"{name} has no English variant"
    assert not indonesian.get("condition"), f"{name}: the unconditional variant must be Indonesian"
    assert set(PLACEHOLDER.findall(indonesian["text"])) == set(PLACEHOLDER.findall(english["text"]))
    assert len(indonesian.get("buttons") or []) == len(english.get("buttons") or [])


def test_render_fills_placeholders_and_buttons_in_the_requested_language():
    message = CATALOGUE.render("utter_promise_too_far", "en", latest="7 December 2026", latest_iso="2026-12-07")
    assert "7 December 2026" in message["text"]
    assert message["buttons"][0] == {"title": "Pay on 7 December 2026", "payload": "2026-12-07"}
    assert CATALOGUE.render("utter_promise_too_far", "id", latest="7 Desember 2026")["text"].startswith("Maaf")


def test_missing_values_leave_the_placeholder_instead_of_failing():
    assert "{balance}" in CATALOGUE.render("utter_ask_promise_amount", "id")["text"]


def test_unknown_response_is_an_error():
    with pytest.raises(UnknownResponseError):
        CATALOGUE.render("utter_does_not_exist", "id")


def test_the_responses_the_code_sends_are_found_in_actions_and_the_scheduler():
    names = responses_named_in_code()
    assert {"utter_promise_recorded", "utter_early_settlement_offer", "utter_balance"} <= names
    assert all(name.startswith("utter_") for name in names)
    assert names <= set(CATALOGUE.names()), "every response the code names exists in the domain"


def test_validation_warnings_about_what_the_code_or_a_form_sends_are_expected():
    output = "\n".join(
        [
            "UserWarning: The utterance 'utter_promise_recorded' is not used in any story or rule.",
            "UserWarning: The utterance 'utter_ask_promise_date' is not used in any story or rule.",
            "UserWarning: The utterance 'utter_fragment_no_reference' is not used in any story or rule.",
            "UserWarning: The intent 'EXTERNAL_reminder' is listed in the domain file, but is not found in the "
            "NLU training data.",
            "UserWarning: The intent 'thanks' is listed in the domain file, but is not found in the NLU training data.",
        ]
    )
    assert expected_validation_warnings(output) == [
        "EXTERNAL_reminder",
        "utter_ask_promise_date",
        "utter_promise_recorded",
    ], "a response nothing sends and an ordinary intent without examples stay warnings"
    assert expected_validation_warnings(None) == expected_validation_warnings("") == []
