"""Which debtor each imported account row belongs to, and which rows must not be imported.

The birth date is the identity-check secret for every account a debtor has, and the phone is where
the bot talks to them. So an import never decides by phone alone that a row is somebody already on
file: it renamed people and replaced their birth date when a phone number had passed to someone else.
The rules (README, "Accounts CSV"):

- A row with ``customer_ref`` (the lender's own customer id) belongs to the debtor with that
  customer_ref, or to a new one. That row may change the debtor's name, birth date and phone.
  A debtor on file without a customer_ref is given this one when the row is plainly the same
  person (the account's debtor, or else the phone's, with the same name and birth date).
- A row without ``customer_ref`` belongs to the debtor who has its account already (name and birth
  date must match), else to the debtor with its phone (name and birth date must match), else to a
  new debtor.
- A phone, Telegram chat id or account held by another debtor is a conflict on the row. Within one
  import the first row that names a debtor fixes their name, birth date, phone and chat id; a later
  row that disagrees is a conflict. A phone a debtor gives up in this import stays theirs until the
  import is over (no swaps inside one import).

Pure: the caller loads what is on file (:class:`OnFile`) and writes the result (:class:`Match`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

__all__ = [
    "AUDITED_FIELDS",
    "DEBTOR_FIELDS",
    "AccountRow",
    "Conflict",
    "DebtorRecord",
    "Match",
    "OnFile",
    "describe",
    "describe_needs_account",
    "match_rows",
]

DEBTOR_FIELDS = (
    "customer_ref",
    "name",
    "phone",
    "telegram_chat_id",
    "email",
    "language",
    "timezone",
    "birth_date",
)
# A change to one of these is written to the audit log as ``debtor.updated`` (field names only).
AUDITED_FIELDS = ("customer_ref", "name", "birth_date", "phone", "telegram_chat_id", "email")


class AccountRow(Protocol):
    """A validated import row (``bot.services.accounts`` makes them)."""

    @property
    def line(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def customer_ref(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def telegram_chat_id(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def birth_date(self) -> date: ...


@dataclass
class OnFile:
    """The debtors and accounts already stored that the rows could refer to."""

    debtors: Mapping[int, Mapping[str, Any]]  # id -> the DEBTOR_FIELDS values
    account_owners: Mapping[str, int]  # account ref -> debtor id


@dataclass(eq=False, slots=True)
class DebtorRecord:
    """One debtor as the import would leave them; ``id`` is None for a debtor the import creates."""

    id: int | None
    customer_ref: str | None
    name: str
    phone: str | None
    telegram_chat_id: str | None
    email: str | None
    language: str
    timezone: str
    birth_date: date
    original: Mapping[str, Any] | None = None  # the stored values; None for a new debtor
    first_line: int | None = None  # the first row of this import that belongs to this debtor
    first_ref: str | None = None
    # "identity", "phone", "telegram_chat_id" -> the line that fixed it in this import
    fixed_on: dict[str, int] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DEBTOR_FIELDS}

    def changes(self) -> dict[str, Any]:
        """Stored fields this import changes (nothing for a new debtor)."""
        if self.original is None:
            return {}
        return {name: getattr(self, name) for name in DEBTOR_FIELDS if getattr(self, name) != self.original[name]}


@dataclass
class Conflict:
    """A row that would change someone else's identity. ``other`` (when known) is described after
    the message, e.g. " (customer_ref C-7)", once the caller knows an account of theirs."""

    line: int
    field: str
    message: str
    other: DebtorRecord | None = None


@dataclass
class Match:
    assignment: dict[int, DebtorRecord]  # row line -> the debtor the row's account belongs to
    new: list[DebtorRecord]  # debtors to create, in file order
    changed: list[DebtorRecord]  # stored debtors whose fields change
    conflicts: list[Conflict]


def describe(other: DebtorRecord, account_refs: Mapping[int, str]) -> str:
    """How a conflict names the other debtor: their customer_ref, else one of their accounts."""
    if other.customer_ref:
        what = f"customer_ref {other.customer_ref}"
    elif other.id is not None and other.id in account_refs:
        what = f"account {account_refs[other.id]}"
    elif other.id is None and other.first_ref:
        what = f"account {other.first_ref}"
    else:
        return ""
    if other.id is None:
        what += f" on line {other.first_line}"
    return f" ({what})"


def describe_needs_account(conflicts: Iterable[Conflict]) -> set[int]:
    """Stored debtors a conflict names by one of their accounts (the caller looks those up)."""
    return {
        c.other.id for c in conflicts if c.other is not None and c.other.id is not None and not c.other.customer_ref
    }


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _same_person(debtor: DebtorRecord, row: AccountRow) -> bool:
    """Names compare without case or repeated spaces; the birth date exactly."""
    return debtor.birth_date == row.birth_date and _folded(debtor.name) == _folded(row.name)


class _Matcher:
    def __init__(self, on_file: OnFile) -> None:
        self.records = {
            debtor_id: DebtorRecord(id=debtor_id, original=dict(values), **{k: values[k] for k in DEBTOR_FIELDS})
            for debtor_id, values in on_file.debtors.items()
        }
        stored = self.records.values()
        self.by_customer_ref = {r.customer_ref: r for r in stored if r.customer_ref}
        self.by_phone = {r.phone: r for r in stored if r.phone}
        self.by_chat = {r.telegram_chat_id: r for r in stored if r.telegram_chat_id}
        self.account_owner = {
            ref: self.records[debtor_id]
            for ref, debtor_id in on_file.account_owners.items()
            if debtor_id in self.records
        }
        self.assignment: dict[int, DebtorRecord] = {}
        self.new: list[DebtorRecord] = []
        self.touched: list[DebtorRecord] = []
        self.conflicts: list[Conflict] = []

    def take(self, row: AccountRow) -> None:
        target, conflicts = self._find(row)
        if target is not None:
            conflicts = self._check(row, target)
        if conflicts:
            self.conflicts.extend(conflicts)
            return
        assert target is not None
        self._apply(row, target)

    def result(self) -> Match:
        changed = [r for r in self.touched if r.changes()]
        return Match(assignment=self.assignment, new=self.new, changed=changed, conflicts=self.conflicts)

    # -- which debtor

    def _find(self, row: AccountRow) -> tuple[DebtorRecord | None, list[Conflict]]:
        owner = self.account_owner.get(row.ref)
        if row.customer_ref:
            found = self.by_customer_ref.get(row.customer_ref)
            if found is not None:
                return found, []
            candidate = owner or self.by_phone.get(row.phone)
            if candidate is not None and candidate.customer_ref is None and _same_person(candidate, row):
                return candidate, []  # the lender now names a debtor we knew without their id
            return self._fresh(row), []
        if owner is not None:
            if _same_person(owner, row):
                return owner, []
            return None, self._identity_conflicts(row, owner)
        holder = self.by_phone.get(row.phone)
        if holder is not None:
            if _same_person(holder, row):
                return holder, []  # another account of the same person
            return None, [Conflict(row.line, "phone", f"{row.phone} already belongs to another debtor", holder)]
        return self._fresh(row), []

    @staticmethod
    def _fresh(row: AccountRow) -> DebtorRecord:
        return DebtorRecord(
            id=None,
            customer_ref=None,  # set (and indexed) by _apply
            name=row.name,
            phone=row.phone,
            telegram_chat_id=row.telegram_chat_id,
            email=row.email,
            language=row.language,
            timezone=row.timezone,
            birth_date=row.birth_date,
        )

    @staticmethod
    def _identity_conflicts(row: AccountRow, owner: DebtorRecord) -> list[Conflict]:
        """The account is on file for someone whose name or birth date differs (values never shown)."""
        if "identity" in owner.fixed_on:
            reason = f"differs from line {owner.fixed_on['identity']} (the same debtor)"
        else:
            reason = (
                f"differs from the debtor of account {row.ref} on file; "
                "only a row with the debtor's customer_ref may change it"
            )
        conflicts = []
        if _folded(owner.name) != _folded(row.name):
            conflicts.append(Conflict(row.line, "name", reason))
        if owner.birth_date != row.birth_date:
            conflicts.append(Conflict(row.line, "birth_date", reason))
        return conflicts

    # -- may the row belong to it

    def _check(self, row: AccountRow, target: DebtorRecord) -> list[Conflict]:
        conflicts: list[Conflict] = []
        owner = self.account_owner.get(row.ref)
        if owner is not None and owner is not target:
            whose = f"customer_ref {owner.customer_ref}" if owner.customer_ref else "no customer_ref"
            conflicts.append(
                Conflict(
                    row.line,
                    "account_ref",
                    f"{row.ref} belongs to another debtor ({whose}); an account does not move to another debtor",
                )
            )
        if row.customer_ref and "identity" in target.fixed_on and not _same_person(target, row):
            conflicts.append(
                Conflict(
                    row.line,
                    "customer_ref",
                    f"{row.customer_ref} is on line {target.fixed_on['identity']} with a different name or birth_date",
                )
            )
        holder = self.by_phone.get(row.phone)
        if holder is not None and holder is not target:
            conflicts.append(Conflict(row.line, "phone", f"{row.phone} already belongs to another debtor", holder))
        elif target.phone != row.phone and "phone" in target.fixed_on:
            conflicts.append(
                Conflict(
                    row.line,
                    "phone",
                    f"{row.phone} differs from {target.phone} on line {target.fixed_on['phone']} (the same debtor)",
                )
            )
        chat = row.telegram_chat_id
        if chat:
            holder = self.by_chat.get(chat)
            if holder is not None and holder is not target:
                conflicts.append(
                    Conflict(row.line, "telegram_chat_id", f"{chat} already belongs to another debtor", holder)
                )
            elif target.telegram_chat_id != chat and "telegram_chat_id" in target.fixed_on:
                line = target.fixed_on["telegram_chat_id"]
                conflicts.append(
                    Conflict(
                        row.line,
                        "telegram_chat_id",
                        f"{chat} differs from {target.telegram_chat_id} on line {line} (the same debtor)",
                    )
                )
        return conflicts

    # -- the row belongs to it

    def _apply(self, row: AccountRow, target: DebtorRecord) -> None:
        if target.first_line is None:
            target.first_line, target.first_ref = row.line, row.ref
            (self.new if target.id is None else self.touched).append(target)
        if row.customer_ref and target.customer_ref is None:
            target.customer_ref = row.customer_ref
            self.by_customer_ref[row.customer_ref] = target
        if "identity" not in target.fixed_on:
            if row.customer_ref:  # only the lender's own id may change a stored name or birth date
                target.name, target.birth_date = row.name, row.birth_date
            target.fixed_on["identity"] = row.line
        target.phone = row.phone
        target.fixed_on.setdefault("phone", row.line)
        self.by_phone[row.phone] = target  # the old number stays theirs for the rest of the import
        if row.telegram_chat_id:
            target.telegram_chat_id = row.telegram_chat_id
            target.fixed_on.setdefault("telegram_chat_id", row.line)
            self.by_chat[row.telegram_chat_id] = target
        if row.email:
            target.email = row.email  # contact details and preferences: the last row wins
        target.language, target.timezone = row.language, row.timezone
        self.assignment[row.line] = target


def match_rows(rows: Sequence[AccountRow], on_file: OnFile) -> Match:
    """Assign every row to a debtor, in file order; a conflicting row is left out (and reported)."""
    matcher = _Matcher(on_file)
    for row in rows:
        matcher.take(row)
    return matcher.result()
