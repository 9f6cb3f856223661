import pytest

from bot.services.language import guess_language, requested_language


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
