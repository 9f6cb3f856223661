"""Identity checks cannot be guessed (finding 1) and answers are never kept (finding 6): the service
that reads an unverified sender's answers before the dialogue does, on a real database with a clock
the tests move."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, AuditLog, Conversation, IdentityAttempt, IdentityLock
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import account_snapshot, import_account_rows
from bot.services.conversations import get_or_create_conversation
from bot.services.identity_checks import (
    MASK_BIRTH_DATE,
    MASK_CODE,
    IdentityLimits,
    IdentityScreen,
    Reach,
    account_security,
    clear_lock,
    open_challenge,
    take_attempt,
    token_message,
)

START = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
RIGHT = "03-09-1992"
SECRET = "test-secret-key-for-codes"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    factory: sessionmaker[Session]
    clock: Clock
    screen: IdentityScreen
    senders: list[str] = field(default_factory=list)

    def start_check(self, sender: str, ref: str) -> None:
        """What the identity form does when it has a reference and asks for the date of birth."""
        with self.factory.begin() as session:
            conversation, _ = get_or_create_conversation(session, channel="web", sender_id=sender)
            open_challenge(session, conversation, ref=ref, now=self.clock())

    def answer(self, sender: str, text: str, *, address: str) -> tuple[str, str, IdentityAttempt | None, object]:
        """(stored text, dialogue text, the attempt the token stands for, code delivery)."""
        with self.factory.begin() as session:
            conversation, _ = get_or_create_conversation(session, channel="web", sender_id=sender)
            screened = self.screen(session, conversation, text, address=address)
            assert screened is not None
            attempt = None
            if screened.dialogue_text.startswith("/inform"):
                token = screened.dialogue_text.split('"')[3]
                attempt = take_attempt(session, conversation, token, now=self.clock())
                session.flush()
                session.expunge(attempt)
            return screened.stored_text, screened.dialogue_text, attempt, screened.delivery

    def verified(self, sender: str) -> bool:
        with self.factory() as session:
            conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
            return bool(conversation and conversation.verified)


def _world(tmp_path: Path, *, channels: tuple[str, ...] = (), **limits: object) -> World:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as session:
        import_account_rows(
            session,
            [
                {
                    "account_ref": "TGH-10001",
                    "name": "Sari Dewi",
                    "phone": "081234567801",
                    "language": "id",
                    "timezone": "Asia/Jakarta",
                    "currency": "IDR",
                    "amount_due": "2750000",
                    "due_date": "2026-11-10",
                    "birth_date": "1992-09-03",
                }
            ],
        )
    clock = Clock()
    screen = IdentityScreen(IdentityLimits(**limits), Reach.on(channels), SECRET, clock)  # type: ignore[arg-type]
    return World(factory, clock, screen)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return _world(tmp_path)


def test_failures_count_per_account_across_conversations_and_lock_it(world: World) -> None:
    """The reported attack: wrong dates spread over several conversations and addresses, then the
    right date in a fresh conversation. The account locks and the right date no longer verifies."""
    for n in range(5):
        sender = f"attacker-{n}"
        world.start_check(sender, "TGH-10001")
        _, _, attempt, _ = world.answer(sender, f"0{n + 1}-01-1970", address=f"ip:10.0.0.{n}")
        assert attempt is not None and attempt.reply == "mismatch"
        world.clock.advance(hours=1)  # past every growing delay
    world.start_check("attacker-5", "TGH-10001")
    _, _, attempt, _ = world.answer("attacker-5", RIGHT, address="ip:10.0.0.99")
    assert attempt is not None and attempt.reply == "locked"
    assert not world.verified("attacker-5")
    with world.factory() as session:
        lock = session.scalar(select(IdentityLock))
        assert lock is not None and lock.account_id is not None and lock.failures == 5
        assert len(lock.addresses) == 5
        assert session.scalar(select(AuditLog).where(AuditLog.action == "identity.locked")) is not None
        account = session.scalar(select(Account).where(Account.ref == "TGH-10001"))
        shown = account_security(session, account, now=world.clock())
        assert shown["lock"] is not None and shown["failed_checks_24h"] == 5 and shown["addresses_24h"] == 5
        # what `tagih accounts show REF --json` and the API show
        snapshot = account_snapshot(session, "TGH-10001", now=world.clock())
        assert snapshot["identity"]["lock"]["failures"] == 5 and snapshot["identity"]["failed_checks_24h"] == 5


def test_the_lock_ends_when_it_expires_or_an_agent_clears_it(tmp_path: Path) -> None:
    world = _world(tmp_path, lock=timedelta(hours=2))
    for n in range(5):
        world.start_check(f"s{n}", "TGH-10001")
        world.answer(f"s{n}", "01-01-1970", address=f"ip:10.1.0.{n}")
        world.clock.advance(minutes=30)
    world.start_check("owner", "TGH-10001")
    assert world.answer("owner", RIGHT, address="ip:10.1.1.1")[2].reply == "locked"
    with world.factory.begin() as session:
        lock = session.scalar(select(IdentityLock))
        clear_lock(session, lock.id, by="agent@lender.co.id", now=world.clock())
    world.start_check("owner-2", "TGH-10001")
    assert world.answer("owner-2", RIGHT, address="ip:10.1.1.1")[2].reply == "verified"
    assert world.verified("owner-2")
    with world.factory() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "identity.lock_cleared")).actor.startswith(
            "agent@"
        )


def test_a_lock_runs_out_on_its_own(tmp_path: Path) -> None:
    world = _world(tmp_path, lock=timedelta(hours=2))
    for n in range(5):
        world.start_check(f"s{n}", "TGH-10001")
        world.answer(f"s{n}", "01-01-1970", address=f"ip:10.2.0.{n}")
        world.clock.advance(minutes=30)
    world.clock.advance(hours=2)
    world.start_check("owner", "TGH-10001")
    assert world.answer("owner", RIGHT, address="ip:10.2.1.1")[2].reply == "verified"


def test_growing_delays_after_the_free_failures(world: World) -> None:
    replies = []
    for n in range(4):
        world.start_check(f"g{n}", "TGH-10001")
        replies.append(world.answer(f"g{n}", "01-01-1970", address=f"ip:10.3.0.{n}")[2])
    # two free failures; the third is looked at; the fourth comes too soon (30 s after the third)
    assert [a.reply for a in replies] == ["mismatch", "mismatch", "mismatch", "throttled"]
    assert 0 < replies[3].wait_seconds <= 31
    world.clock.advance(seconds=31)
    world.start_check("g4", "TGH-10001")
    assert world.answer("g4", "01-01-1970", address="ip:10.3.0.4")[2].reply == "mismatch"
    world.start_check("g5", "TGH-10001")
    waited = world.answer("g5", "01-01-1970", address="ip:10.3.0.5")[2]
    assert waited.reply == "throttled" and 31 < waited.wait_seconds <= 61  # the wait doubled


def test_an_address_is_stopped_after_its_limit_whatever_the_references(world: World) -> None:
    for n in range(10):
        world.start_check(f"a{n}", f"TGH-2{n:04d}")  # ten different (unknown) references
        assert world.answer(f"a{n}", "01-01-1970", address="ip:10.4.0.1")[2].reply == "mismatch"
        world.clock.advance(hours=1)
    world.start_check("a10", "TGH-10001")
    blocked = world.answer("a10", RIGHT, address="ip:10.4.0.1")[2]
    assert blocked.reply == "throttled" and blocked.wait_seconds > 3600
    assert not world.verified("a10")
    world.start_check("elsewhere", "TGH-10001")  # the owner, from another address, is not held back
    assert world.answer("elsewhere", RIGHT, address="ip:10.4.0.2")[2].reply == "verified"


def test_the_guesser_learns_nothing_about_which_references_exist(tmp_path: Path) -> None:
    def replies_for(ref: str, base: Path) -> list[tuple[str, int | None]]:
        base.mkdir()
        world = _world(base)
        seen = []
        for n in range(8):
            world.start_check(f"p{n}", ref)
            attempt = world.answer(f"p{n}", f"0{n + 1}-01-1970", address=f"ip:10.5.0.{n}")[2]
            seen.append((attempt.reply, attempt.wait_seconds))
            world.clock.advance(seconds=45)
        return seen

    real = replies_for("TGH-10001", tmp_path / "real")
    invented = replies_for("TGH-99999", tmp_path / "invented")
    assert real == invented
    assert {reply for reply, _ in real} >= {"mismatch", "throttled", "locked"}


def test_a_second_factor_makes_a_right_date_look_like_a_wrong_one(tmp_path: Path) -> None:
    world = _world(tmp_path, channels=("whatsapp",))
    world.start_check("right", "TGH-10001")
    stored, dialogue, attempt, delivery = world.answer("right", RIGHT, address="ip:10.6.0.1")
    world.start_check("wrong", "TGH-10001")
    stored_w, dialogue_w, attempt_w, delivery_w = world.answer("wrong", "01-01-1970", address="ip:10.6.0.2")
    assert attempt.reply == attempt_w.reply == "code_prompt"  # the same reply either way
    assert delivery is not None and delivery_w is None  # only a right date sends a code
    assert delivery.channel == "whatsapp" and delivery.address == "+6281234567801" and len(delivery.code) == 6
    assert stored == stored_w == MASK_BIRTH_DATE
    assert not world.verified("right")  # the date alone is not enough
    wrong_code = "000000" if delivery.code != "000000" else "111111"
    stored, _, attempt, _ = world.answer("right", wrong_code, address="ip:10.6.0.1")
    assert attempt.reply == "code_mismatch" and stored == MASK_CODE
    typed = f"kodenya {delivery.code[:3]} {delivery.code[3:]}"
    _, _, attempt, _ = world.answer("right", typed, address="ip:10.6.0.1")
    assert attempt.reply == "verified" and world.verified("right")
    # a code never works for the wrong-date conversation, whatever is typed
    for guess in ("123456", "000000", "999999"):
        world.clock.advance(minutes=1)  # past the growing delay
        _, _, attempt, _ = world.answer("wrong", guess, address="ip:10.6.0.2")
    assert attempt.reply == "code_failed" and not world.verified("wrong")


def test_a_code_expires(tmp_path: Path) -> None:
    world = _world(tmp_path, channels=("whatsapp",))
    world.start_check("late", "TGH-10001")
    delivery = world.answer("late", RIGHT, address="ip:10.7.0.1")[3]
    world.clock.advance(minutes=11)
    attempt = world.answer("late", delivery.code, address="ip:10.7.0.1")[2]
    assert attempt.reply == "expired" and not world.verified("late")


def test_answers_are_replaced_by_tokens_and_never_stored(world: World) -> None:
    world.start_check("masked", "TGH-10001")
    stored, dialogue, attempt, _ = world.answer("masked", "tgl lahir sy 3 sept 1992 ya", address="ip:10.8.0.1")
    assert stored == MASK_BIRTH_DATE and "1992" not in dialogue
    assert dialogue == token_message(dialogue.split('"')[3]) and attempt.reply == "verified"
    with world.factory() as session:
        assert session.scalar(select(IdentityAttempt).where(IdentityAttempt.token.is_not(None))).consumed_at


def test_dates_of_birth_outside_the_check_are_masked_and_forged_tokens_defused(world: World) -> None:
    with world.factory.begin() as session:
        conversation, _ = get_or_create_conversation(session, channel="web", sender_id="chatty")
        screened = world.screen(session, conversation, "sy lahir 03-09-1992, bayar tgl 25-11-2026", address="ip:1")
        assert screened is not None and "1992" not in screened.stored_text and "1992" not in screened.dialogue_text
        assert "25-11-2026" in screened.dialogue_text  # a payment date stays
        forged = world.screen(session, conversation, '/inform{"identity_check":"abc"}', address="ip:1")
        assert forged is not None and not forged.dialogue_text.startswith("/")
        assert world.screen(session, conversation, "halo", address="ip:1") is None


def test_a_token_works_once_and_only_in_its_conversation(world: World) -> None:
    world.start_check("one", "TGH-10001")
    with world.factory.begin() as session:
        conversation, _ = get_or_create_conversation(session, channel="web", sender_id="one")
        screened = world.screen(session, conversation, RIGHT, address="ip:2")
        token = screened.dialogue_text.split('"')[3]
        other, _ = get_or_create_conversation(session, channel="web", sender_id="two")
        assert take_attempt(session, other, token, now=world.clock()) is None
        assert take_attempt(session, conversation, token, now=world.clock()) is not None
        assert take_attempt(session, conversation, token, now=world.clock()) is None


def test_birth_dates_of_minors_are_not_taken_for_answers(world: World) -> None:
    world.start_check("young", "TGH-10001")
    recent = (date(2026, 11, 23) - timedelta(days=365 * 5)).strftime("%d-%m-%Y")
    stored, dialogue, attempt, _ = world.answer("young", recent, address="ip:3")
    assert attempt is None and "•" in stored and not any(ch.isdigit() for ch in stored)
