"""When a business-initiated message may reach a debtor: collection-rules profiles.

A profile says on which weekdays and between which local hours contact is allowed, which public
holidays are off limits, how many messages a debtor may get per local day and per 7 days, and
what every message must carry (an opt-out line under Regulation F). Everything here is pure:
times are timezone-aware and evaluated in the debtor's own timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

import holidays

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ProfileError(ValueError):
    """A profile definition is not usable (unknown weekday, empty window, bad caps)."""


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


@dataclass(frozen=True)
class ContactProfile:
    name: str
    weekdays: frozenset[int]  # 0 = Monday
    start: time  # first allowed local time (inclusive)
    end: time  # local time contact must stop (exclusive)
    holiday_country: str | None
    max_per_day: int
    max_per_week: int
    footer: Mapping[str, str] = field(default_factory=dict)  # appended to every message, per language

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ProfileError(f"{self.name}: weekdays must be a non-empty subset of Monday..Sunday")
        if self.start >= self.end:
            raise ProfileError(f"{self.name}: the contact window must start before it ends")
        if self.max_per_day < 1 or self.max_per_week < self.max_per_day:
            raise ProfileError(f"{self.name}: caps must be at least 1 a day and no less per week than per day")
        if self.holiday_country is not None:
            try:
                _holiday_calendar(self.holiday_country, 2026)
            except NotImplementedError as exc:
                raise ProfileError(f"{self.name}: no holiday calendar for {self.holiday_country!r}") from exc

    def holiday(self, day: date) -> str | None:
        """The holiday's name if ``day`` is a public holiday in this profile's country."""
        if self.holiday_country is None:
            return None
        return _holiday_calendar(self.holiday_country, day.year).get(day)

    def day_closed_reason(self, day: date) -> str | None:
        if day.weekday() not in self.weekdays:
            return f"no contact on {WEEKDAY_NAMES[day.weekday()].capitalize()}"
        name = self.holiday(day)
        if name:
            return f"public holiday ({name})"
        return None

    def closed_reason(self, local: datetime) -> str | None:
        """Why contact is not allowed at this local moment, or None when it is."""
        _aware(local)
        reason = self.day_closed_reason(local.date())
        if reason:
            return reason
        if not self.start <= local.time().replace(tzinfo=None) < self.end:
            return f"outside contact hours {self.start:%H:%M}-{self.end:%H:%M} local time"
        return None

    def next_allowed(self, local: datetime) -> datetime:
        """The first allowed moment at or after ``local`` (same timezone)."""
        _aware(local)
        tz = local.tzinfo
        day = local.date()
        for _ in range(400):
            if self.day_closed_reason(day) is None:
                opening = _at(day, self.start, tz)
                closing = _at(day, self.end, tz)
                if local < opening:
                    return opening
                if local < closing:
                    return local
            day += timedelta(days=1)
            local = _at(day, time(0, 0), tz)
        raise ProfileError(f"{self.name}: no allowed contact time within 400 days")

    def with_footer(self, text: str, language: str) -> str:
        footer = self.footer.get(language) or self.footer.get("en")
        if not footer or footer in text:
            return text
        return f"{text}\n\n{footer}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weekdays": [WEEKDAY_NAMES[d] for d in sorted(self.weekdays)],
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "holiday_country": self.holiday_country,
            "max_per_day": self.max_per_day,
            "max_per_week": self.max_per_week,
            "footer": dict(self.footer),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContactProfile:
        try:
            weekdays = frozenset(WEEKDAY_NAMES.index(str(d).lower()[:3]) for d in data["weekdays"])
            return cls(
                name=str(data["name"]),
                weekdays=weekdays,
                start=time.fromisoformat(str(data["start"])),
                end=time.fromisoformat(str(data["end"])),
                holiday_country=data.get("holiday_country"),
                max_per_day=int(data["max_per_day"]),
                max_per_week=int(data["max_per_week"]),
                footer=dict(data.get("footer") or {}),
            )
        except (KeyError, ValueError, TypeError) as exc:
            if isinstance(exc, ProfileError):
                raise
            raise ProfileError(f"invalid contact profile: {exc}") from exc


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def _at(day: date, moment: time, tz: Any) -> datetime:
    """A wall-clock time on ``day``; a time skipped by a DST jump resolves to after the jump."""
    local = datetime.combine(day, moment, tzinfo=tz)
    return local.astimezone(timezone.utc).astimezone(tz)


INDONESIA = ContactProfile(
    name="indonesia",
    weekdays=frozenset(range(6)),  # Monday to Saturday
    start=time(8, 0),
    end=time(20, 0),
    holiday_country="ID",
    max_per_day=1,
    max_per_week=4,
)

US_REGULATION_F = ContactProfile(
    name="us_regulation_f",
    weekdays=frozenset(range(7)),
    start=time(8, 0),
    end=time(21, 0),
    holiday_country=None,
    max_per_day=1,
    max_per_week=7,
    footer={"en": "Reply STOP to opt out.", "id": "Balas STOP untuk berhenti menerima pesan."},
)

PROFILES: dict[str, ContactProfile] = {p.name: p for p in (INDONESIA, US_REGULATION_F)}
