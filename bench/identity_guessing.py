"""What guessing a debtor's date of birth costs an attacker after the identity limits.

Runs the real identity-check service (bot/services/identity_checks.py) on a scratch SQLite database
with a simulated clock: an attacker who knows an account number tries dates of birth as fast as the
replies allow (waiting out each "try again in N minutes", retrying a locked number every hour), from
one address or from many, for a number of simulated days. Prints how many dates were actually checked
per day and what that means for a 60-year range of dates. Usage: ``python -m bench.identity_guessing``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import import_account_rows
from bot.services.conversations import get_or_create_conversation
from bot.services.identity_checks import IdentityLimits, IdentityScreen, Reach, open_challenge, take_attempt

RANGE_DAYS = 365 * 60 + 15  # every date in a 60-year range of birth years
START = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


def simulate(days: int, addresses: int, channels: tuple[str, ...]) -> tuple[int, int]:
    """(dates checked against the records, replies that told the attacker anything)."""
    tmp = Path(tempfile.mkdtemp(prefix="tagih-guess-"))
    url = f"sqlite:///{tmp / 'guess.db'}"
    migrate(url)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as session:
        import_account_rows(
            session,
            [
                {
                    "account_ref": "TGH-10001",
                    "name": "Target Debtor",
                    "phone": "081234567801",
                    "language": "id",
                    "timezone": "Asia/Jakarta",
                    "currency": "IDR",
                    "amount_due": "2750000",
                    "due_date": "2026-01-01",
                    "birth_date": "1950-01-01",  # never guessed: the attacker starts at 1960
                }
            ],
        )
    clock = Clock()
    screen = IdentityScreen(IdentityLimits(), Reach.on(channels), "bench-secret", clock)
    end = START + timedelta(days=days)
    guess = date(1960, 1, 1)
    checked = informative = 0
    n = 0
    while clock.now < end:
        n += 1
        sender, address = f"attacker-{n}", f"ip:10.9.{(n % addresses) // 250}.{(n % addresses) % 250}"
        with factory.begin() as session:
            conversation, _ = get_or_create_conversation(session, channel="web", sender_id=sender)
            open_challenge(session, conversation, ref="TGH-10001", now=clock.now)
            screened = screen(session, conversation, guess.strftime("%d-%m-%Y"), address=address)
            assert screened is not None
            attempt = take_attempt(session, conversation, screened.dialogue_text.split('"')[3], now=clock.now)
            assert attempt is not None
            reply, wait = attempt.reply, attempt.wait_seconds
        if reply in ("mismatch", "code_prompt"):
            checked += 1
            informative += reply == "mismatch"  # with a second factor every date reads the same
            guess += timedelta(days=1)
            clock.now += timedelta(seconds=1)
        elif reply == "throttled":
            clock.now += timedelta(seconds=wait or 60)
        else:  # locked: come back in an hour
            clock.now += timedelta(hours=1)
    return checked, informative


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    print("| attacker | second factor | dates checked per day | replies that tell | expected time to the right date |")
    print("|---|---|---|---|---|")
    for addresses in (1, 1000):
        for channels, label in (((), "off (no channel on file)"), (("whatsapp",), "on (WhatsApp on file)")):
            checked, informative = simulate(args.days, addresses, channels)
            per_day = checked / args.days
            if informative:
                years = RANGE_DAYS / 2 / per_day / 365
                expected = f"{years:.1f} years"
            else:
                expected = "never from the replies (a right date reads like a wrong one; a code is also needed)"
            who = "one address" if addresses == 1 else f"{addresses} addresses"
            print(f"| {who} | {label} | {per_day:.1f} | {informative} of {checked} | {expected} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
