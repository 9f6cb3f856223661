"""Plays a conversation scenario against the live stack and checks the stored records.

A scenario (YAML)::

    - name: "id: a per-month offer becomes a plan"
      account: {amount_due: "2400000", due: "2026-11-10", language: id}   # a fresh debtor each time
      verify: "tagihan sy brp?"       # optional: open with this, then pass the identity check
      identify_with: phone            # optional: give the phone number on file instead of the account
      turns:
        - say: "bisa dicicil gk kak?"
          expect: ["berapa kali"]     # every string must appear in the replies (case-insensitive)
          absent: ["Rp0"]             # none of these may appear
          buttons: ["/affirm"]        # these payloads must be offered
      more_accounts: [{amount_due: "500000", due: "2026-11-20"}]   # optional: the same debtor's others,
                                      # named {ref2}, {ref3}... in what is said and expected
      known_gap: "why"                # optional: the bot still gets this wrong (an expected failure,
                                      # counted as not passed; reported as XPASS once it is right)
      records:                        # compared with `tagih accounts show REF --json`
        status: active
        promises: [{kind: promise, amount: "1000000.00", status: pending}]   # exactly these (listed keys)
        plans: []
        claims: []
        handoffs: [{reason: complaint}]
        opt_outs: 0
        conversation_handoffs: [{reason: distress}]   # the conversation's own (an unverified sender's)
      more_records: [{promises: [...]}]   # optional: the same for {ref2}, {ref3}... (beside records)

Dates in ``expect`` and ``records`` are those the fixed clock of the live stack gives (Monday
23 November 2026, 10:00 in Jakarta).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bot.db.models import Conversation, Handoff
from bot.services.accounts import account_snapshot, import_account_rows
from tests.support import LiveStack

HERE = Path(__file__).resolve().parent
_n = itertools.count(1)


def load_scenarios() -> list[dict[str, Any]]:
    scenarios: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("*.yml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            scenario["file"] = path.name
            scenarios.append(scenario)
    return scenarios


def new_account(
    stack: LiveStack, spec: dict[str, Any], more: list[dict[str, Any]] | None = None
) -> tuple[list[str], str, str]:
    """A fresh debtor with the scenario's account (and any others of theirs): (refs, phone, birth date)."""
    n = next(_n)
    base = f"CV-{random.randint(100000, 999999)}{n}"
    phone = f"+62815{random.randint(10_000_000, 99_999_999)}"
    birth = spec.get("birth_date", "1990-03-0" + str(n % 9 + 1))
    refs = [base] + [f"{base}-{i}" for i in range(2, len(more or []) + 2)]
    rows = [
        {
            "account_ref": ref,
            "customer_ref": f"C-{base}",
            "name": spec.get("name", f"Debitur Percakapan {n}"),
            "phone": phone,
            "language": spec.get("language", "id"),
            "timezone": "Asia/Jakarta",
            "currency": "IDR",
            "amount_due": str(account.get("amount_due", "2000000")),
            "due_date": str(account.get("due", "2026-11-10")),
            "birth_date": birth,
        }
        for ref, account in zip(refs, [spec, *(more or [])], strict=True)
    ]
    with stack.session_factory.begin() as session:
        import_account_rows(session, rows)
    return refs, phone, birth


def _fill(text: str, refs: list[str]) -> str:
    for number, ref in reversed(list(enumerate(refs, start=1))):
        text = text.replace(f"{{ref{number}}}" if number > 1 else "{ref}", ref)
    return text


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def _payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b.get("payload", "") for r in replies for b in r.get("buttons") or []]


def _matches(actual: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(actual.get(key)) == str(value) for key, value in wanted.items())


def check_records(stack: LiveStack, ref: str, expected: dict[str, Any]) -> list[str]:
    with stack.session_factory() as session:
        snapshot = account_snapshot(session, ref)
    problems = []
    for key, wanted in expected.items():
        if key == "opt_outs":
            if len(snapshot["opt_outs"]) != int(wanted):
                problems.append(f"opt_outs: {len(snapshot['opt_outs'])} != {wanted}: {snapshot['opt_outs']}")
        elif key in ("promises", "plans", "claims", "handoffs", "payments", "proposals"):
            actual = snapshot[key]
            unmatched = list(actual)
            for item in wanted:
                hit = next((a for a in unmatched if _matches(a, item)), None)
                if hit is None:
                    problems.append(f"{key}: no record like {item} in {actual}")
                else:
                    unmatched.remove(hit)
            if unmatched:
                problems.append(f"{key}: unexpected {unmatched}")
        elif str(snapshot.get(key)) != str(wanted):
            problems.append(f"{key}: {snapshot.get(key)!r} != {wanted!r}")
    return problems


def check_conversation(stack: LiveStack, sender: str, wanted: list[dict[str, Any]]) -> list[str]:
    """Handoffs of the web chat conversation itself (an unverified sender's are on no account)."""
    with stack.session_factory() as session:
        handoffs = session.scalars(
            select(Handoff).join(Conversation).where(Conversation.channel == "web", Conversation.sender_id == sender)
        ).all()
        actual = [{"reason": h.reason, "status": h.status} for h in handoffs]
    problems = [
        f"conversation handoffs: no {item} in {actual}" for item in wanted if not any(_matches(a, item) for a in actual)
    ]
    if len(actual) != len(wanted):
        problems.append(f"conversation handoffs: {actual} != {wanted}")
    return problems


def play(stack: LiveStack, scenario: dict[str, Any], sender: str) -> list[str]:
    """Every way the conversation fell short of the scenario (empty: it held up)."""
    refs, phone, birth = new_account(stack, scenario.get("account") or {}, scenario.get("more_accounts"))
    ref = refs[0]
    problems: list[str] = []
    transcript: list[str] = []
    if scenario.get("verify"):
        stack.say(sender, scenario["verify"])
        named = phone.replace("+62", "0") if scenario.get("identify_with") == "phone" else ref
        replies = stack.identify(sender, named, birth, phone=phone)
        if ref not in _text(replies) and "terverifikasi" not in _text(replies) and "verified" not in _text(replies):
            problems.append(f"identity check did not pass: {_text(replies)!r}")
    for number, turn in enumerate(scenario.get("turns") or [], start=1):
        message = _fill(str(turn["say"]), refs)
        replies = stack.say(sender, message)
        text = _text(replies)
        transcript.append(f"> {message}\n< {text}")
        for needle in turn.get("expect") or []:
            needle = _fill(str(needle), refs)
            if needle.lower() not in text.lower():
                problems.append(f"turn {number} ({message!r}): {needle!r} not in reply {text!r}")
        for needle in turn.get("absent") or []:
            if str(needle).lower() in text.lower():
                problems.append(f"turn {number} ({message!r}): {needle!r} should not be in reply {text!r}")
        for payload in turn.get("buttons") or []:
            payload = _fill(str(payload), refs)
            if payload not in _payloads(replies):
                problems.append(f"turn {number} ({message!r}): no button {payload!r} in {_payloads(replies)}")
    records = dict(scenario.get("records") or {})
    if "conversation_handoffs" in records:
        problems += check_conversation(stack, sender, records.pop("conversation_handoffs"))
    more_records = scenario.get("more_records") or []
    for other, wanted in zip(refs[1:], more_records, strict=False):
        problems += [f"{other}: {p}" for p in check_records(stack, other, wanted)]
    problems += check_records(stack, ref, records)
    if problems:
        problems.append("transcript:\n" + "\n".join(transcript))
    return problems
