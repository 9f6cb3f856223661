"""The reminder ladder as a document: stages by day offset to the due date, their texts and
WhatsApp templates, and the checks that refuse a ladder the scheduler could not use. Pure: reading
the ladder in force from the database is ``bot.outreach.ladder``'s job.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.errors import DocumentError

LANGUAGES = ("id", "en")
ACTIONS = ("send", "send_and_handoff")
COMMON_FIELDS = frozenset({"name", "company_name", "ref", "amount", "due_date", "days_past_due"})
PROMISE_FIELDS = COMMON_FIELDS | {"promise_amount", "promise_date"}
INSTALLMENT_FIELDS = COMMON_FIELDS | {"installment_amount", "installment_date", "installment_number"}


class LadderError(DocumentError):
    """The ladder is not usable; ``problems`` lists every reason."""


@dataclass(frozen=True)
class Template:
    name: str
    languages: Mapping[str, str]
    parameters: tuple[str, ...]

    def language(self, language: str) -> str:
        return self.languages.get(language) or self.languages.get("id") or language


@dataclass(frozen=True)
class Wording:
    texts: Mapping[str, str]
    template: Template

    def text(self, language: str, values: Mapping[str, str]) -> str:
        return self.texts.get(language, self.texts["id"]).format_map(values)

    def template_parameters(self, values: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(values[name] for name in self.template.parameters)


@dataclass(frozen=True)
class Stage:
    key: str
    offset: int
    action: str
    wording: Wording


@dataclass(frozen=True)
class Ladder:
    stages: tuple[Stage, ...]  # ordered by offset
    promise_follow_up: Wording
    promise_days_after: int
    installment_reminder: Wording
    installment_days_before: int
    source: dict[str, Any]

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)

    def windows(self) -> list[tuple[Stage, int, int | None]]:
        """Each stage with the day offsets it applies to: [offset, next stage's offset)."""
        result = []
        for index, stage in enumerate(self.stages):
            following = self.stages[index + 1].offset if index + 1 < len(self.stages) else None
            result.append((stage, stage.offset, following))
        return result

    @classmethod
    def from_dict(cls, data: Any) -> Ladder:
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise LadderError(["the ladder must be a mapping with 'stages'"])
        stages: list[Stage] = []
        raw_stages = data.get("stages")
        if not isinstance(raw_stages, list) or not raw_stages:
            problems.append("'stages' must be a non-empty list")
            raw_stages = []
        keys: set[str] = set()
        offsets: dict[int, str] = {}
        for index, raw in enumerate(raw_stages, 1):
            where = f"stage {index}"
            if not isinstance(raw, Mapping):
                problems.append(f"{where}: must be a mapping")
                continue
            key = str(raw.get("key") or "").strip()
            if not key or len(key) > 32:
                problems.append(f"{where}: 'key' is required (at most 32 characters)")
            elif key in keys:
                problems.append(f"{where}: duplicate key {key!r}")
            keys.add(key)
            where = f"stage {key or index}"
            offset = raw.get("offset")
            if not isinstance(offset, int) or isinstance(offset, bool) or not -60 <= offset <= 365:
                problems.append(f"{where}: 'offset' must be a whole number of days between -60 and 365")
                continue
            if offset in offsets:
                problems.append(f"{where}: offset {offset} overlaps stage {offsets[offset]!r}")
            offsets[offset] = key
            action = raw.get("action", "send")
            if action not in ACTIONS:
                problems.append(f"{where}: 'action' must be one of {', '.join(ACTIONS)}")
            wording = _wording(raw, where, COMMON_FIELDS, problems)
            if wording is not None:
                stages.append(Stage(key=key, offset=offset, action=action, wording=wording))
        promise = data.get("promise_follow_up") or {}
        installment = data.get("installment_reminder") or {}
        promise_wording = _wording(promise, "promise_follow_up", PROMISE_FIELDS, problems)
        installment_wording = _wording(installment, "installment_reminder", INSTALLMENT_FIELDS, problems)
        days_after = promise.get("days_after", 1) if isinstance(promise, Mapping) else 1
        days_before = installment.get("days_before", 2) if isinstance(installment, Mapping) else 2
        for name, value in (
            ("promise_follow_up.days_after", days_after),
            ("installment_reminder.days_before", days_before),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 30:
                problems.append(f"{name} must be a whole number of days between 0 and 30")
        if problems or promise_wording is None or installment_wording is None:
            raise LadderError(problems or ["incomplete ladder"])
        return cls(
            stages=tuple(sorted(stages, key=lambda s: s.offset)),
            promise_follow_up=promise_wording,
            promise_days_after=days_after,
            installment_reminder=installment_wording,
            installment_days_before=days_before,
            source=dict(data),
        )

    @classmethod
    def from_yaml(cls, text: str) -> Ladder:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LadderError([f"invalid YAML: {exc}"]) from exc
        return cls.from_dict(data)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _wording(raw: Any, where: str, allowed: frozenset[str], problems: list[str]) -> Wording | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping with 'text' and 'template'")
        return None
    texts = raw.get("text")
    ok = True
    if not isinstance(texts, Mapping):
        problems.append(f"{where}: 'text' must give the message per language ({', '.join(LANGUAGES)})")
        texts = {}
        ok = False
    for language in LANGUAGES:
        text = texts.get(language)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: text for {language!r} is missing or empty")
            ok = False
            continue
        try:
            unknown = _placeholders(text) - allowed
        except ValueError as exc:
            problems.append(f"{where}: text for {language!r} is not a valid format string ({exc})")
            ok = False
            continue
        if unknown:
            problems.append(f"{where}: text for {language!r} uses unknown placeholders {sorted(unknown)}")
            ok = False
        elif "company_name" not in _placeholders(text):
            problems.append(f"{where}: text for {language!r} must identify the company ({{company_name}})")
            ok = False
    template = raw.get("template")
    if not isinstance(template, Mapping) or not str(template.get("name") or "").strip():
        problems.append(f"{where}: 'template' with a 'name' is required (used outside WhatsApp's 24-hour window)")
        return None
    parameters = template.get("parameters") or []
    if not isinstance(parameters, list) or any(p not in allowed for p in parameters):
        problems.append(f"{where}: template parameters must be placeholders from {sorted(allowed)}")
        ok = False
    languages = template.get("language") or {}
    if isinstance(languages, str):
        languages = {language: languages for language in LANGUAGES}
    if not ok:
        return None
    return Wording(
        texts={k: str(v) for k, v in texts.items()},
        template=Template(str(template["name"]), dict(languages), tuple(parameters)),
    )
