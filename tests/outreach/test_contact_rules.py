"""Collection-rules profiles: contact windows, holidays, next allowed moment (with hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contact_rules import INDONESIA, US_REGULATION_F, ContactProfile, ProfileError

JAKARTA = ZoneInfo("Asia/Jakarta")
ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "America/New_York", "America/Los_Angeles", "UTC"]


def at(day: date, hour: int, minute: int = 0, tz: str = "Asia/Jakarta") -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def test_indonesia_allows_weekdays_and_saturday_within_hours():
    monday = date(2026, 11, 23)
    assert INDONESIA.closed_reason(at(monday, 8)) is None
    assert INDONESIA.closed_reason(at(monday, 19, 59)) is None
    assert "contact hours" in INDONESIA.closed_reason(at(monday, 20))
    assert "contact hours" in INDONESIA.closed_reason(at(monday, 7, 59))
    assert INDONESIA.closed_reason(at(date(2026, 11, 28), 10)) is None  # Saturday
    assert "Sun" in INDONESIA.closed_reason(at(date(2026, 11, 29), 10))


def test_national_holidays_are_closed():
    christmas = date(2026, 12, 25)
    assert "holiday" in INDONESIA.closed_reason(at(christmas, 10))
    assert "holiday" in INDONESIA.closed_reason(at(date(2026, 8, 17), 10))  # Independence Day
    assert US_REGULATION_F.closed_reason(at(christmas, 10, tz="America/New_York")) is None


def test_next_allowed_skips_evening_sunday_and_holiday():
    # Thursday 24 December 2026, 21:00 -> Friday 25th is Christmas -> Saturday 26th 08:00
    assert INDONESIA.next_allowed(at(date(2026, 12, 24), 21)) == at(date(2026, 12, 26), 8)
    # Saturday evening -> Monday morning
    assert INDONESIA.next_allowed(at(date(2026, 11, 28), 20, 30)) == at(date(2026, 11, 30), 8)
    inside = at(date(2026, 11, 23), 9, 15)
    assert INDONESIA.next_allowed(inside) == inside


def test_regulation_f_window_and_footer():
    assert US_REGULATION_F.closed_reason(at(date(2026, 11, 29), 20, 30, "America/Chicago")) is None
    assert US_REGULATION_F.closed_reason(at(date(2026, 11, 29), 21, 0, "America/Chicago")) is not None
    text = US_REGULATION_F.with_footer("Your bill is due.", "en")
    assert text.endswith("Reply STOP to opt out.")
    assert US_REGULATION_F.with_footer(text, "en") == text, "never appended twice"
    assert INDONESIA.with_footer("Tagihan", "id") == "Tagihan"


@pytest.mark.parametrize(
    "changes",
    [
        {"weekdays": ["xyz"]},
        {"start": "20:00", "end": "08:00"},
        {"max_per_day": 0},
        {"max_per_day": 3, "max_per_week": 2},
        {"holiday_country": "XX"},
    ],
)
def test_bad_profiles_are_refused(changes):
    with pytest.raises(ProfileError):
        ContactProfile.from_dict({**INDONESIA.as_dict(), **changes})


def test_profile_round_trips_through_a_dict():
    assert ContactProfile.from_dict(US_REGULATION_F.as_dict()) == US_REGULATION_F


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(timezone.utc)
)


@settings(max_examples=300, deadline=None)
@given(moment=instants, zone=st.sampled_from(ZONES), profile=st.sampled_from([INDONESIA, US_REGULATION_F]))
def test_next_allowed_is_allowed_and_nothing_earlier_is(moment, zone, profile):
    local = moment.astimezone(ZoneInfo(zone))
    allowed = profile.next_allowed(local)
    assert allowed >= local
    assert profile.closed_reason(allowed) is None
    # no allowed minute was skipped: probe the gap on a coarse grid
    probe = local
    while probe < allowed - timedelta(minutes=30):
        assert profile.closed_reason(probe) is not None, f"{probe} was allowed but skipped"
        probe += timedelta(minutes=30)


@settings(max_examples=200, deadline=None)
@given(moment=instants, zone=st.sampled_from(ZONES[:3]))
def test_indonesia_never_allows_sundays_holidays_or_night(moment, zone):
    local = moment.astimezone(ZoneInfo(zone))
    if INDONESIA.closed_reason(local) is None:
        assert local.weekday() != 6
        assert INDONESIA.holiday(local.date()) is None
        assert time(8, 0) <= local.time() < time(20, 0)
