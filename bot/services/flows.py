"""The editable flow set and its versions.

A version holds every file an admin can change, by repository path: the Rasa training files under
``nlu/`` (config, domain with the bot's responses, NLU examples, rules, stories), the reminder ladder,
the canned replies and the collection policy. The repository's files are version 1; each change
writes a new version (who, when, what) and any version can be restored (as a new version). The YAML stays the source
format: a version exports to files and imports from them. Its paths are a closed set (:func:`path_problem`), checked
on every save and import and again on every export, which never writes through a symlink.

Responses, the ladder, canned replies and the policy are read from the newest version at run time
(live, no training); training examples, intents and rules need a new model (see bot/services/models.py).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import FlowVersion
from bot.dialogue.responses import ResponseCatalogue
from bot.domain.ladder import Ladder, LadderError
from bot.errors import DocumentError, NotFoundError
from bot.settings import PROJECT_ROOT

CONFIG = "nlu/config.yml"
DOMAIN = "nlu/domain.yml"
LADDER = "scheduler/ladder.yml"
CANNED = "bot/data/canned_replies.yml"
POLICY = "bot/data/policy.yml"
TRAINING_PREFIX = "nlu/"
TRAINING_DATA_PREFIX = "nlu/data/"
TRAINING_DATA_SUFFIXES = (".yml", ".yaml")
FIXED_DOCUMENTS = (CONFIG, DOMAIN, LADDER, CANNED, POLICY)
MAX_PATH_CHARS = 200
LANGUAGES = ("id", "en")
MAX_TEXT = 2000

_PATH_CHARACTERS = re.compile(r"^[A-Za-z0-9_./-]+$")


class FlowError(DocumentError):
    """A change or an import that would break the flow set; ``problems`` lists every reason."""

    code = "invalid_flow"


# ---------------------------------------------------------------------------------------------------
# Paths: a flow version's file names become file names on disk (export, training), so every path
# going in (API edits, imports, saves) and out (exports) passes the same check.


def path_problem(path: object) -> str | None:
    """Why ``path`` cannot name a file of the flow set, or None when it can.

    A flow path is a relative POSIX path without ``..``, ``.`` or empty segments, backslashes or
    control characters, made of letters, digits, ``_``, ``-``, ``.`` and ``/``: a training file under
    ``nlu/data/`` (``.yml``/``.yaml``) or one of :data:`FIXED_DOCUMENTS`. Checked as text, so a
    version stored before this check existed is caught before it reaches the file system."""
    if not isinstance(path, str) or not path:
        return "is empty"
    if len(path) > MAX_PATH_CHARS:
        return f"is longer than {MAX_PATH_CHARS} characters"
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in path):
        return "contains a control character"
    if "\\" in path:
        return "contains a backslash (use '/')"
    if path.startswith("/"):
        return "is absolute (give it relative to the flow set, e.g. nlu/data/rules.yml)"
    segments = path.split("/")
    if ".." in segments:
        return "has a '..' segment"
    if any(segment in ("", ".") for segment in segments):
        return "has an empty or '.' segment"
    if not _PATH_CHARACTERS.match(path):
        return "may only contain letters, digits, '_', '-', '.' and '/'"
    if path in FIXED_DOCUMENTS:
        return None
    if path.startswith(TRAINING_DATA_PREFIX) and path.endswith(TRAINING_DATA_SUFFIXES):
        return None
    return f"is not a flow file (a .yml file under {TRAINING_DATA_PREFIX} or one of {', '.join(FIXED_DOCUMENTS)})"


def check_paths(paths: Iterable[object]) -> None:
    """Raise :class:`FlowError` naming every path that is not a flow path, and why."""
    problems = [f"{path!r} {reason}" for path in paths if (reason := path_problem(path)) is not None]
    if problems:
        raise FlowError(problems)


def repository_documents(root: Path = PROJECT_ROOT) -> dict[str, str]:
    files = [root / CONFIG, root / DOMAIN]
    files += sorted(p for p in (root / "nlu" / "data").rglob("*") if p.suffix in (".yml", ".yaml"))
    files += [root / LADDER, root / CANNED, root / POLICY]
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in files}


def _parse(path: str, text: str, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problems.append(f"{path}: invalid YAML ({str(exc).splitlines()[0]})")
        return None


def validate(documents: Mapping[str, str]) -> None:
    """Refuse a flow set that would break the bot, with every reason."""
    problems: list[str] = []
    for required in (DOMAIN, CONFIG, LADDER, CANNED):
        if required not in documents:
            problems.append(f"{required} is missing")
    parsed = {path: _parse(path, text, problems) for path, text in documents.items()}
    domain = parsed.get(DOMAIN) or {}
    if not isinstance(domain, dict):
        problems.append(f"{DOMAIN}: must be a mapping")
        domain = {}
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}
    intents |= {"nlu_fallback", "restart", "session_start", "back"}  # Rasa's own intents
    responses = domain.get("responses") or {}
    for name, variants in responses.items():
        if not isinstance(variants, list) or not variants:
            problems.append(f"response {name}: needs at least one variant")
            continue
        for variant in variants:
            if not isinstance(variant, dict) or not str(variant.get("text") or "").strip():
                problems.append(f"response {name}: every variant needs a non-empty text")
    for path, data in parsed.items():
        if not path.startswith("nlu/data/") or not isinstance(data, dict):
            continue
        for block in data.get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if intent and intent not in intents:
                problems.append(f"{path}: examples for unknown intent {intent!r} (add it to the domain first)")
        for key in ("rules", "stories"):
            for item in data.get(key) or []:
                title = repr((item or {}).get("rule") or (item or {}).get("story"))
                for step in (item or {}).get("steps") or []:
                    if not isinstance(step, dict):
                        continue
                    if "intent" in step and step["intent"] not in intents:
                        problems.append(f"{path}: {title} uses unknown intent {step['intent']!r}")
                    action = str(step.get("action", ""))
                    if action.startswith("utter_") and action not in responses:
                        problems.append(f"{path}: {title} uses unknown response {action!r}")
    if parsed.get(LADDER) is not None:
        try:
            Ladder.from_dict(parsed[LADDER])
        except LadderError as exc:
            problems += [f"{LADDER}: {p}" for p in exc.problems]
    canned = parsed.get(CANNED)
    if canned is not None and not (isinstance(canned, dict) and isinstance(canned.get("replies"), list)):
        problems.append(f"{CANNED}: must have a list of 'replies'")
    if POLICY in documents and not any(p.startswith(f"{POLICY}: invalid YAML") for p in problems):
        from bot.services.policy import PolicyDocumentError, parse

        try:
            parse(parsed[POLICY])
        except PolicyDocumentError as exc:
            problems += [f"{POLICY}: {p}" for p in exc.problems]
    if problems:
        raise FlowError(problems)


def seed(session: Session) -> FlowVersion:
    """Version 1 from the repository's files, if there is no version yet; the newest otherwise."""
    current = newest(session)
    if current is not None:
        return current
    version = FlowVersion(
        number=1, documents=repository_documents(), summary="the repository's files", created_by="repository"
    )
    session.add(version)
    session.flush()
    return version


def newest(session: Session) -> FlowVersion | None:
    return session.scalar(select(FlowVersion).order_by(FlowVersion.number.desc()).limit(1))


def get_version(session: Session, number: int) -> FlowVersion:
    version = session.scalar(select(FlowVersion).where(FlowVersion.number == number))
    if version is None:
        raise NotFoundError(f"no flow version {number}")
    return version


def versions(session: Session) -> list[dict[str, Any]]:
    seed(session)
    rows = session.scalars(select(FlowVersion).order_by(FlowVersion.number.desc())).all()
    return [
        {"number": v.number, "summary": v.summary, "created_by": v.created_by, "created_at": v.created_at.isoformat()}
        for v in rows
    ]


def save(session: Session, documents: Mapping[str, str], *, by: str, summary: str) -> FlowVersion:
    check_paths(documents)
    validate(documents)
    current = seed(session)
    if dict(current.documents) == dict(documents):
        raise FlowError(["nothing changed"])
    number = (session.scalar(select(func.max(FlowVersion.number))) or 0) + 1
    version = FlowVersion(number=number, documents=dict(documents), summary=summary, created_by=by)
    session.add(version)
    session.flush()
    from bot.services.audit import audit

    audit(
        session,
        actor=by,
        action="flows.saved",
        entity_type="flow_version",
        entity_id=number,
        details={"summary": summary},
    )
    return version


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as the domain file writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _replace_response(text: str, name: str, variants: list[dict[str, Any]]) -> str:
    """Rewrite one response's block in the domain's text, leaving every other line (comments, order,
    quoting) as it was, so a version's diff shows only the edit."""
    lines = text.splitlines(keepends=True)
    in_responses = False
    start = end = None
    for index, line in enumerate(lines):
        stripped = line.rstrip("\n")
        if not line.startswith(" ") and stripped.strip():
            if start is not None and end is None:
                end = index
            in_responses = stripped.startswith("responses:")
            continue
        if in_responses and stripped.startswith("  ") and not stripped.startswith("   ") and stripped.strip():
            if start is not None and end is None:
                end = index
            if stripped.strip() == f"{name}:":
                start, end = index, None
    if start is None:
        raise NotFoundError(f"no response {name}")
    end = end if end is not None else len(lines)
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # keep blank lines and comments that separate blocks
    block = yaml.dump(
        {name: variants},
        Dumper=_IndentedDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
        default_flow_style=None,
    )
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    updated = "".join(lines[:start]) + indented + "".join(lines[end:])
    if (yaml.safe_load(updated).get("responses") or {}).get(name) != variants:
        raise FlowError([f"could not rewrite response {name} in {DOMAIN}"])
    return updated


def _variant_language(variant: Mapping[str, Any]) -> str:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition.get("value"))
    return "id"


def edit_response(
    session: Session, name: str, texts: Mapping[str, str], *, by: str, buttons: list[dict[str, str]] | None = None
) -> FlowVersion:
    """Replace a response's text per language (and optionally its buttons)."""
    current = seed(session)
    documents = dict(current.documents)
    domain = yaml.safe_load(documents[DOMAIN])
    responses = domain.get("responses") or {}
    if name not in responses:
        raise NotFoundError(f"no response {name}")
    problems = []
    for language in LANGUAGES:
        text = (texts.get(language) or "").strip()
        if not text:
            problems.append(f"the {language} text is empty")
        elif len(text) > MAX_TEXT:
            problems.append(f"the {language} text is longer than {MAX_TEXT} characters")
    unknown = set(texts) - set(LANGUAGES)
    if unknown:
        problems.append(f"unknown languages {sorted(unknown)}")
    if problems:
        raise FlowError(problems)
    old_buttons = {_variant_language(v): v.get("buttons") for v in responses[name]}
    variants: list[dict[str, Any]] = []
    for language in LANGUAGES:
        variant: dict[str, Any] = {"text": texts[language].strip()}
        if language != "id":
            variant = {"condition": [{"type": "slot", "name": "language", "value": language}], **variant}
        kept = buttons if buttons is not None else old_buttons.get(language)
        if kept:
            variant["buttons"] = kept
        variants.append(variant)
    documents[DOMAIN] = _replace_response(documents[DOMAIN], name, variants)
    return save(session, documents, by=by, summary=f"response {name} edited")


def edit_document(session: Session, path: str, text: str, *, by: str) -> FlowVersion:
    """Replace one file of the flow set (e.g. the ladder, an NLU examples file, the rules)."""
    check_paths([path])
    current = seed(session)
    documents = {**current.documents, path: text}
    return save(session, documents, by=by, summary=f"{path} edited")


def restore(session: Session, number: int, *, by: str) -> FlowVersion:
    old = get_version(session, number)
    return save(session, old.documents, by=by, summary=f"restored version {number}")


def diff(session: Session, old: int, new: int) -> str:
    """A readable unified diff between two versions."""
    a, b = get_version(session, old).documents, get_version(session, new).documents
    chunks: list[str] = []
    for path in sorted(set(a) | set(b)):
        before, after = a.get(path, ""), b.get(path, "")
        if before != after:
            chunks += difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"v{old}/{path}",
                tofile=f"v{new}/{path}",
            )
    return "".join(chunks)


def _write_under(directory: Path, files: Mapping[str, str], *, strip: str = "") -> None:
    """Write ``files`` (flow path -> text) below ``directory``, each at its path less the prefix
    ``strip``, and nowhere else.

    Every path is checked first, so a bad one (e.g. in a version stored before paths were checked)
    writes nothing at all. Writing never passes through a symlink: no folder on the way to a file and
    no file itself may be one, so a link planted in the folder cannot send a file outside it."""
    check_paths(files)
    root = directory.resolve()
    root.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        parts = path[len(strip) :].split("/") if path.startswith(strip) else path.split("/")
        folder = root
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise FlowError([f"{path!r}: {folder} is a symlink; export into a new directory"])
            folder.mkdir(exist_ok=True)
        target = root.joinpath(*parts)
        if not target.resolve().is_relative_to(root):
            raise FlowError([f"{path!r} would be written outside {directory}"])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(target, flags, 0o644)
        except OSError as exc:  # ELOOP: the file itself is a symlink
            raise FlowError([f"{path!r}: cannot write {target} ({exc.strerror})"]) from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)


def export_version(session: Session, number: int, directory: Path) -> Path:
    """Write a version's Rasa training files (config.yml, domain.yml, data/) into ``directory``."""
    version = get_version(session, number)
    check_paths(version.documents)  # a bad path anywhere in the version refuses the whole export
    training = {path: text for path, text in version.documents.items() if path.startswith(TRAINING_PREFIX)}
    _write_under(directory, training, strip=TRAINING_PREFIX)
    return directory


def export_all(session: Session, number: int | None, directory: Path) -> list[str]:
    """Write every file of a version (the newest by default) under ``directory`` by repository path."""
    version = get_version(session, number) if number is not None else seed(session)
    _write_under(directory, version.documents)
    return sorted(version.documents)


class _ImportWalk:
    """Finds the flow files in an import folder without following a symlink anywhere on the way."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.found: list[str] = []
        self.problems: list[str] = []

    def kind(self, relative: str) -> str | None:
        """``dir``, ``file``, ``other`` or None (missing, or a symlink on the way: a problem)."""
        current = self.directory
        parts = relative.split("/")
        for index, part in enumerate(parts):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                return None
            if stat.S_ISLNK(mode):
                problem = f"{'/'.join(parts[: index + 1])} is a symlink (copy it into the folder instead)"
                if problem not in self.problems:
                    self.problems.append(problem)
                return None
            if index < len(parts) - 1 and not stat.S_ISDIR(mode):
                return None
        return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"

    def add(self, relative: str) -> None:
        kind = self.kind(relative)
        if kind == "file":
            self.found.append(relative)
        elif kind is not None:
            self.problems.append(f"{relative} is not a regular file")

    def walk_data(self) -> None:
        """Every .yml/.yaml file below nlu/data/, at any depth."""
        top = TRAINING_DATA_PREFIX.rstrip("/")
        if self.kind(top) != "dir":
            return
        pending = [top]
        while pending:
            folder = pending.pop()
            for name in sorted(os.listdir(self.directory.joinpath(*folder.split("/")))):
                relative = f"{folder}/{name}"
                kind = self.kind(relative)
                if kind == "dir":
                    pending.append(relative)
                elif name.endswith(TRAINING_DATA_SUFFIXES) and kind is not None:
                    self.add(relative)


def _import_candidates(directory: Path) -> list[str]:
    """The flow paths present in ``directory``: the fixed documents and the .yml files under
    nlu/data/; nothing else is read (nlu/endpoints.yml, nlu/tests/, models, a checkout's .venv).

    Refuses (:class:`FlowError`, every reason) a symlink anywhere on the way to a file it would read,
    so an import cannot be made to read files outside the folder, anything but a regular file, and a
    file name that is not a flow path."""
    walk = _ImportWalk(directory)
    for path in FIXED_DOCUMENTS:
        walk.add(path)
    walk.walk_data()
    problems = walk.problems + [
        f"{path!r} {reason}" for path in walk.found if (reason := path_problem(path)) is not None
    ]
    if problems:
        raise FlowError(problems)
    return sorted(walk.found)


def _read_text(path: Path) -> str:
    """The file's text; refuses to open a symlink (swapped in after the walk)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, encoding="utf-8") as handle:
        return handle.read()


def import_directory(session: Session, directory: Path, *, by: str) -> FlowVersion:
    """Read files laid out as ``export_all`` writes them and store them as a new version."""
    if not directory.is_dir():
        raise FlowError([f"{directory} is not a directory"])
    documents: dict[str, str] = {}
    for relative in _import_candidates(directory):
        try:
            documents[relative] = _read_text(directory.joinpath(*relative.split("/")))
        except UnicodeDecodeError:
            raise FlowError([f"{relative}: not UTF-8 text"]) from None
        except OSError as exc:
            raise FlowError([f"{relative}: cannot read ({exc.strerror})"]) from None
    return save(session, documents, by=by, summary=f"imported from {directory.name}")


class LiveResponses:
    """The response catalogue of the newest flow version, re-read when a new version appears
    (checked at most every ``refresh`` seconds), so edits reach the next turn without training."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        fallback: ResponseCatalogue,
        *,
        refresh: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = session_factory
        self._fallback = fallback
        self._refresh = refresh
        self._clock = clock
        self._checked = float("-inf")
        self._number: int | None = None
        self._catalogue = fallback

    def current(self) -> ResponseCatalogue:
        now = self._clock()
        if now - self._checked >= self._refresh:
            self._checked = now
            try:
                with self._sessions() as session:
                    number = session.scalar(select(func.max(FlowVersion.number)))
                    if number is not None and number != self._number:
                        text = get_version(session, number).documents[DOMAIN]
                        self._catalogue = ResponseCatalogue(yaml.safe_load(text).get("responses") or {})
                        self._number = number
            except Exception:  # the database is briefly unavailable: keep serving what we have
                return self._catalogue
        return self._catalogue

    def invalidate(self) -> None:
        self._checked = float("-inf")

    def names(self) -> list[str]:
        return self.current().names()

    def variant(self, name: str, language: str) -> dict[str, Any]:
        return self.current().variant(name, language)

    def render(self, name: str, language: str, **values: Any) -> dict[str, Any]:
        return self.current().render_with(name, language, values)

    def render_with(self, name: str, language: str, values: Mapping[str, Any]) -> dict[str, Any]:
        return self.current().render_with(name, language, values)
