from types import SimpleNamespace

import pytest

from bot.services.language import follow_language, guess_language, requested_language, written_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tagihan sy brp ya kak", "id"),
        ("udh tf td pagi", "id"),
        ("how much do I owe?", "en"),
        ("I already paid yesterday", "en"),
        ("DEMO-1001", "id"),  # no signal: the default
    ],
)
def test_guess_language(text, expected):
    assert guess_language(text, "id") == expected


def test_requested_language():
    assert requested_language("can we speak english please") == "en"
    assert requested_language("pakai bahasa indonesia aja") == "id"
    assert requested_language("ganti bahasa dong") == "id"
    assert requested_language("halo") is None


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("tagihan sy brp ya kak", "id"),
        ("how much do I owe you", "en"),
        ("ok", None),
        ("/affirm", None),
        ("DEMO-1002", None),
        ("halo", None),
    ],
)
def test_the_language_a_message_is_clearly_written_in(text: str, written: str | None) -> None:
    assert written_language(text) == written


def test_the_bot_follows_the_writer_unless_they_chose_a_language() -> None:
    conversation = SimpleNamespace(language="en", language_chosen=False)
    assert follow_language(conversation, "tagihan sy brp ya kak") == "id" and conversation.language == "id"
    assert follow_language(conversation, "sy mau bayar besok") is None  # already Indonesian
    chosen = SimpleNamespace(language="en", language_chosen=True)
    assert follow_language(chosen, "tagihan sy brp ya kak") is None and chosen.language == "en"
