import pytest

from bot.services.segments import next_segment


@pytest.mark.parametrize(
    ("current", "signal", "expected"),
    [
        (None, "promised", "able_willing"),
        (None, "hardship", "unable_willing"),
        ("able_willing", "disputed", "able_unwilling"),
        ("unable_unwilling", "agreed_plan", "unable_willing"),
        ("able_unwilling", "hardship", "unable_unwilling"),
        ("unable_willing", "extension", "unable_willing"),
        ("able_willing", "stopped_contact", "able_unwilling"),
        ("unable_willing", "claimed_paid", "able_willing"),
    ],
)
def test_each_signal_moves_one_or_both_axes(current, signal, expected):
    assert next_segment(current, signal) == expected
