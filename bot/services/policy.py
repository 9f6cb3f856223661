"""The collection policy in force: contact rules and caps, what the bot and agents may agree, and
how to pay.

It is one document of the editable flow set (``bot/data/policy.yml``; the repository's file is
version 1). :func:`active_policy` reads the newest version's copy on every use (one small query,
parsed once per distinct text), so an admin's change reaches the next turn and the next reminder run
without training or a restart. :func:`parse` refuses a document with every reason; caps may only be
tighter than the chosen profile's, so no edit can make reminders unlawful.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.contact_rules import PROFILES, ContactProfile
from bot.domain.schedule import InstallmentPolicy
from bot.errors import DocumentError
from bot.settings import PROJECT_ROOT

POLICY_PATH = "bot/data/policy.yml"
DEFAULT_FILE = PROJECT_ROOT / POLICY_PATH
LANGUAGES = ("id", "en")
PLACEHOLDERS = {"virtual_account", "company", "account_ref"}
MAX_DISCOUNT_PERCENT = Decimal(50)


class PolicyDocumentError(DocumentError):
    """The policy document is not usable; ``problems`` lists every reason."""


@dataclass(frozen=True)
class EarlySettlement:
    """Pay the whole balance within ``pay_within_days`` and get ``discount_percent`` off."""

    discount_percent: Decimal
    pay_within_days: int

    def amount(self, balance: Decimal) -> Decimal:
        off = (balance * self.discount_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return balance - off

    def deadline(self, today: date) -> date:
        return today + timedelta(days=self.pay_within_days)


@dataclass(frozen=True)
class ArrangementPolicy:
    max_promise_days: int
    installments: InstallmentPolicy
    early_settlement: EarlySettlement | None = None


@dataclass(frozen=True)
class CollectionPolicy:
    profile: ContactProfile  # with the document's caps applied
    bot: ArrangementPolicy
    agents: ArrangementPolicy
    payment_instructions: Mapping[str, str]

    def instructions(self, language: str, **values: Any) -> str:
        template = self.payment_instructions.get(language) or self.payment_instructions["id"]
        return template.format(**values)


def _int(section: Mapping[str, Any], key: str, where: str, problems: list[str], *, low: int, high: int) -> int:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}.{key} must be a whole number")
        return low
    if not low <= value <= high:
        problems.append(f"{where}.{key} must be between {low} and {high}")
    return value


def _decimal(section: Mapping[str, Any], key: str, where: str, problems: list[str], *, high: Decimal) -> Decimal:
    value = section.get(key)
    try:
        if isinstance(value, bool) or value is None:
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{where}.{key} must be a number")
        return Decimal(0)
    if not number.is_finite() or not Decimal(0) <= number <= high:
        problems.append(f"{where}.{key} must be between 0 and {high}")
    return number


def _section(data: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    section = data.get(key)
    if not isinstance(section, Mapping):
        problems.append(f"{key} must be a mapping")
        return {}
    return section


def _arrangements(section: Mapping[str, Any], where: str, problems: list[str], *, bot: bool) -> ArrangementPolicy:
    days = _int(section, "max_promise_days", where, problems, low=1, high=365)
    count = _int(section, "max_installments", where, problems, low=1, high=60)
    minimum = _decimal(section, "min_installment", where, problems, high=Decimal(10) ** 12)
    first = _int(section, "max_first_installment_days", where, problems, low=1, high=365) if bot else days
    early = None
    if bot and section.get("early_settlement") is not None:
        offer = section["early_settlement"]
        if not isinstance(offer, Mapping):
            problems.append(f"{where}.early_settlement must be a mapping")
        else:
            percent = _decimal(
                offer, "discount_percent", f"{where}.early_settlement", problems, high=MAX_DISCOUNT_PERCENT
            )
            within = _int(offer, "pay_within_days", f"{where}.early_settlement", problems, low=1, high=days)
            if percent > 0:
                early = EarlySettlement(percent, within)
    return ArrangementPolicy(days, InstallmentPolicy(count, minimum, first), early)


def _instructions(data: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    section = _section(data, "payment_instructions", problems)
    result = {}
    for language in LANGUAGES:
        text = str(section.get(language) or "").strip()
        if not text:
            problems.append(f"payment_instructions.{language} must not be empty")
            continue
        try:
            text.format(**{name: "x" for name in PLACEHOLDERS})
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(
                f"payment_instructions.{language}: unknown or broken placeholder {exc} "
                f"(use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})"
            )
        result[language] = text
    return result


def parse(data: Any) -> CollectionPolicy:
    """Build the policy from the document's data, refusing it with every reason."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise PolicyDocumentError(
            ["the policy must be a mapping with rules, arrangements, agents, payment_instructions"]
        )
    rules = _section(data, "rules", problems)
    name = rules.get("profile")
    profile = PROFILES.get(str(name))
    if profile is None:
        problems.append(f"rules.profile must be one of {', '.join(sorted(PROFILES))} (got {name!r})")
        profile = next(iter(PROFILES.values()))
    caps: dict[str, int] = {}
    for key, ceiling in (("max_per_day", profile.max_per_day), ("max_per_week", profile.max_per_week)):
        if rules.get(key) is not None:
            caps[key] = _int(rules, key, "rules", problems, low=1, high=ceiling)
    if caps.get("max_per_week", profile.max_per_week) < caps.get("max_per_day", profile.max_per_day):
        problems.append("rules.max_per_week must not be less than rules.max_per_day")
    bot = _arrangements(_section(data, "arrangements", problems), "arrangements", problems, bot=True)
    # agents may make the same early-settlement offer the bot makes
    agents = replace(
        _arrangements(_section(data, "agents", problems), "agents", problems, bot=False),
        early_settlement=bot.early_settlement,
    )
    instructions = _instructions(data, problems)
    if problems:
        raise PolicyDocumentError(problems)
    capped = replace(
        profile,
        max_per_day=caps.get("max_per_day", profile.max_per_day),
        max_per_week=caps.get("max_per_week", profile.max_per_week),
    )
    return CollectionPolicy(capped, bot, agents, instructions)


@lru_cache(maxsize=16)
def parse_text(text: str) -> CollectionPolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyDocumentError([f"invalid YAML ({str(exc).splitlines()[0]})"]) from None
    return parse(data)


def default_policy(path: Path = DEFAULT_FILE) -> CollectionPolicy:
    return parse_text(path.read_text(encoding="utf-8"))


def active_policy(session: Session) -> CollectionPolicy:
    """The newest flow version's policy (the repository's file before any version exists)."""
    from bot.db.models import FlowVersion

    text = session.scalar(
        select(FlowVersion.documents[POLICY_PATH].as_string()).order_by(FlowVersion.number.desc()).limit(1)
    )
    return parse_text(text) if text else default_policy()


# Editing: the admin form sends values; they are written into the document's own lines (comments and
# layout kept) so a version's diff shows exactly what changed.
EDITABLE: dict[str, tuple[str, ...]] = {
    "rules": ("profile", "max_per_day", "max_per_week"),
    "arrangements": ("max_promise_days", "max_installments", "min_installment", "max_first_installment_days"),
    "arrangements.early_settlement": ("discount_percent", "pay_within_days"),
    "agents": ("max_promise_days", "max_installments", "min_installment"),
    "payment_instructions": LANGUAGES,
}


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise PolicyDocumentError([f"{value!r} is not a valid value"])
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a double-quoted YAML scalar


def _set_value(lines: list[str], section: str, key: str, value: Any) -> bool:
    """Replace ``key``'s value inside ``section`` (dotted for nesting), keeping a trailing comment."""
    path = section.split(".") + [key]
    depth, indent, index = 0, 0, 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip(" ")
        current = len(line) - len(stripped)
        if stripped and not stripped.startswith("#") and current < indent and depth > 0:
            return False  # left the section without finding the key
        if current == indent and stripped.startswith(f"{path[depth]}:"):
            if depth == len(path) - 1:
                rest = stripped[len(key) + 1 :].rstrip("\n")
                value_end = rest.rindex('"') + 1 if rest.strip().startswith('"') else 0
                hash_at = rest.find("#", value_end)
                comment = rest[hash_at:] if hash_at >= 0 and (hash_at == 0 or rest[hash_at - 1] == " ") else ""
                rendered = _scalar(value)
                head = " " * current + f"{key}:" + (f" {rendered}" if rendered else "")
                if comment:
                    column = current + len(key) + 1 + hash_at  # keep the comment where it was
                    head = head.ljust(column) if len(head) < column - 1 else head + "  "
                lines[index] = head + comment + "\n"
                return True
            depth += 1
            # the nested block's indentation: the next non-blank, non-comment line's
            for following in lines[index + 1 :]:
                if following.strip() and not following.lstrip().startswith("#"):
                    indent = len(following) - len(following.lstrip(" "))
                    break
        index += 1
    return False


def rewrite(text: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    """The document with the given values set, every other line unchanged where the keys exist;
    rebuilt from the parsed data otherwise."""
    unknown = [
        f"{section}.{key}" for section, items in values.items() for key in items if key not in EDITABLE.get(section, ())
    ]
    unknown += [section for section in values if section not in EDITABLE]
    if unknown:
        raise PolicyDocumentError([f"not an editable setting: {name}" for name in sorted(set(unknown))])
    lines = text.splitlines(keepends=True)
    missing = False
    for section, items in values.items():
        for key, value in items.items():
            missing |= not _set_value(lines, section, key, value)
    if not missing:
        return "".join(lines)
    data = yaml.safe_load(text) or {}
    for section, items in values.items():
        target = data
        for part in section.split("."):
            target = target.setdefault(part, {})
        for key, value in items.items():
            target[key] = float(value) if isinstance(value, Decimal) else value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def current_text(documents: Mapping[str, str]) -> str:
    return documents.get(POLICY_PATH) or DEFAULT_FILE.read_text(encoding="utf-8")


def edit(session: Session, values: Mapping[str, Mapping[str, Any]], *, by: str) -> Any:
    """Store the policy with ``values`` changed as a new flow version (validated; nothing stored
    when refused). Returns the new :class:`~bot.db.models.FlowVersion`."""
    from bot.services import flows

    documents = dict(flows.seed(session).documents)
    old_text = current_text(documents)
    try:
        documents[POLICY_PATH] = rewrite(old_text, values)
    except PolicyDocumentError as exc:
        raise flows.FlowError(exc.problems) from None
    before, after = _flatten(yaml.safe_load(old_text)), _flatten(yaml.safe_load(documents[POLICY_PATH]))
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    if not changed:
        raise flows.FlowError(["nothing changed"])
    return flows.save(session, documents, by=by, summary=f"policy edited: {', '.join(changed)}")


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}{key}."))
    return {key.rstrip("."): value for key, value in flat.items()}


def describe(policy: CollectionPolicy, text: str) -> dict[str, Any]:
    """The policy in force as the admin page shows it: caps as written (None = the profile's) and as
    applied, the profiles to choose from and the document's text."""

    def arrangement(a: ArrangementPolicy) -> dict[str, Any]:
        return {
            "max_promise_days": a.max_promise_days,
            "max_installments": a.installments.max_installments,
            "min_installment": str(a.installments.min_installment),
            "max_first_installment_days": a.installments.max_first_days,
        }

    base = PROFILES[policy.profile.name]
    early = policy.bot.early_settlement
    document = yaml.safe_load(text) or {}
    written = document.get("rules") or {}
    offer = (document.get("arrangements") or {}).get("early_settlement") or {}
    return {
        "rules": {
            "profile": policy.profile.name,
            "max_per_day": written.get("max_per_day"),
            "max_per_week": written.get("max_per_week"),
        },
        "applied_caps": {"max_per_day": policy.profile.max_per_day, "max_per_week": policy.profile.max_per_week},
        "arrangements": {
            **arrangement(policy.bot),
            "early_settlement": {
                "discount_percent": str(early.discount_percent) if early else "0",
                # as written, so the page shows the window even while no discount is offered
                "pay_within_days": early.pay_within_days if early else offer.get("pay_within_days"),
            },
        },
        "agents": arrangement(policy.agents),
        "payment_instructions": dict(policy.payment_instructions),
        "profiles": {
            name: {"max_per_day": p.max_per_day, "max_per_week": p.max_per_week, "holidays": p.holiday_country}
            for name, p in PROFILES.items()
        },
        "profile_limits": {"max_per_day": base.max_per_day, "max_per_week": base.max_per_week},
        "text": text,
    }
