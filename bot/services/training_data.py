"""Training examples per intent and the rules that route intents to flows, edited as flow versions.

Every function reads the documents of a flow version (see bot/services/flows.py) and returns new
documents; the ``*_saved`` wrappers store them with ``flows.save`` (validated, who/when/what). Edits
rewrite only the lines they touch (an example's line, a rule's steps), so a version's diff shows just
the change; each rewrite is checked by parsing the result, and refused if it would differ.

Examples
    Every ``nlu:`` block of ``nlu/data/**/*.yml`` with an ``intent``. New examples go at the end of the
    intent's own block (``nlu/data/nlu/<intent>.yml`` when it has one, else the first file holding the
    intent); an intent without any examples gets a block in ``nlu/data/nlu/admin_examples.yml``. An
    example is one line of at most ``MAX_EXAMPLE`` characters and may exist only once in the whole set
    (compared without entity annotations, case and repeated spaces): Rasa refuses an example listed
    under two intents. An intent keeps at least one example.

Routing
    A rule whose first step is an intent routes that intent: without a condition ("direct"), or, for
    debt questions, once the debtor is verified (``verified: true``) with a twin rule that asks for
    identity first and a "resume" rule that runs the same flow after the check. Changing an intent's
    target rewrites the steps after the intent in those rules (an action, plus ``active_loop`` for a
    form) and the same turn in the stories, which must agree with the rules for training to succeed.
    Rules that answer the intent in the middle of a form (``condition: active_loop``, as in
    ``interruptions.yml``) follow it too: a reply or an action is answered and the form resumes; a
    handoff ends the form (its action does, as for ``request_human``); another form takes over.
    Targets are limited to what rules already use for the same kind of intent, plus the handoff to a
    person (whatever the ``request_human`` rule runs). Asking for a person, asking to stop messages and
    changing the language are fixed, as are the scheduler's ``EXTERNAL_`` events.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot.db.models import FlowVersion
from bot.errors import NotFoundError
from bot.services import flows
from bot.services.flows import FlowError

DATA_PREFIX = "nlu/data/"
EXAMPLES_FILE = "nlu/data/nlu/admin_examples.yml"
MAX_EXAMPLE = 300
HANDOFF_INTENT = "request_human"
VERIFIED_SLOT = "verified"
PENDING_SLOT = "pending_flow"
FIXED_INTENTS = {
    "request_human": "asking for a person always reaches a person",
    "stop_contact": "a request to stop messages is always honoured",
    "change_language": "changing the language is handled by its own action",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class _Block:
    intent: str
    path: str
    item: yaml.MappingNode  # the ``- intent: ...`` item of the nlu list
    texts: list[str]  # the examples as Rasa reads them
    lines: list[int] | None  # each example's line in the file; None if the block is not line-editable


def _data_files(documents: Mapping[str, str]) -> list[str]:
    return sorted(p for p in documents if p.startswith(DATA_PREFIX) and p.endswith((".yml", ".yaml")))


def _key(mapping: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in mapping.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


def _compose(path: str, text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise FlowError([f"{path}: invalid YAML ({str(exc).splitlines()[0]})"]) from None


def _example_texts(value: str) -> list[str]:
    return [line.strip()[2:].strip() for line in value.splitlines() if line.strip().startswith("- ")]


@functools.lru_cache(maxsize=128)
def _blocks_in(path: str, text: str) -> list[_Block]:
    root = _compose(path, text)
    if not isinstance(root, yaml.MappingNode):
        return []
    found = _key(root, "nlu")
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return []
    lines = text.splitlines()
    blocks = []
    for item in found[1].value:
        if not isinstance(item, yaml.MappingNode):
            continue
        intent, examples = _key(item, "intent"), _key(item, "examples")
        if intent is None or not isinstance(intent[1], yaml.ScalarNode):
            continue
        if examples is None or not isinstance(examples[1], yaml.ScalarNode):
            blocks.append(_Block(str(intent[1].value), path, item, [], None))
            continue
        key, node = examples
        assert isinstance(node, yaml.ScalarNode)  # checked above
        texts = _example_texts(node.value)
        positions: list[int] | None = None
        if node.style == "|":
            positions = []
            for number in range(node.start_mark.line + 1, len(lines)):
                line = lines[number]
                if line.strip() and len(line) - len(line.lstrip()) <= key.start_mark.column:
                    break
                if line.strip().startswith("- "):
                    positions.append(number)
            if [lines[n].strip()[2:].strip() for n in positions] != texts:
                positions = None
        blocks.append(_Block(str(intent[1].value), path, item, texts, positions))
    return blocks


def _blocks(documents: Mapping[str, str]) -> list[_Block]:
    return [block for path in _data_files(documents) for block in _blocks_in(path, documents[path])]


def _domain(documents: Mapping[str, str]) -> dict[str, Any]:
    domain = _load(documents.get(flows.DOMAIN) or "")
    return domain if isinstance(domain, dict) else {}


def _domain_intents(documents: Mapping[str, str]) -> list[str]:
    domain = _domain(documents)
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    return [n for n in names if not n.startswith("EXTERNAL_")]


def _forms(documents: Mapping[str, str]) -> set[str]:
    domain = _domain(documents)
    return set(domain.get("forms") or {})


def normalise(text: str) -> str:
    """How two examples are compared: without entity annotations, case or repeated spaces."""
    return " ".join(_ANNOTATION.sub(r"\1", text).split()).casefold()


def intents(documents: Mapping[str, str]) -> list[dict[str, Any]]:
    """The domain's intents (the scheduler's events aside), each with its examples and their files."""
    examples: dict[str, list[dict[str, str]]] = {}
    for block in _blocks(documents):
        examples.setdefault(block.intent, []).extend({"text": t, "file": block.path} for t in block.texts)
    names = _domain_intents(documents)
    names += sorted(set(examples) - set(names))
    return [{"name": name, "examples": examples.get(name, [])} for name in names]


def intent(documents: Mapping[str, str], name: str) -> dict[str, Any]:
    for item in intents(documents):
        if item["name"] == name:
            return item
    raise NotFoundError(f"unknown intent {name!r}")


# --- changing examples -----------------------------------------------------------------------------


def _clean(text: Any) -> tuple[str, list[str]]:
    if not isinstance(text, str):
        return "", ["an example must be text"]
    cleaned = " ".join(text.split())
    if not cleaned:
        return "", ["an example is empty"]
    problems = []
    if len(cleaned) > MAX_EXAMPLE:
        problems.append(f"the example {cleaned[:40]!r}... is longer than {MAX_EXAMPLE} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned):
        problems.append(f"the example {cleaned[:40]!r} contains control characters")
    return cleaned, problems


def _known_intent(documents: Mapping[str, str], name: str) -> None:
    if name not in {i["name"] for i in intents(documents)}:
        raise NotFoundError(f"unknown intent {name!r} (add it to the domain first)")


def _existing(documents: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Every example by its normalised text: (intent, text as written)."""
    seen: dict[str, tuple[str, str]] = {}
    for block in _blocks(documents):
        for text in block.texts:
            seen.setdefault(normalise(text), (block.intent, text))
    return seen


def _signature(path: str, text: str) -> Any:
    """A file's data with each block's examples as a list, to check that a rewrite did what it meant."""
    data = _load(text)
    if isinstance(data, dict):
        for item in data.get("nlu") or []:
            if isinstance(item, dict) and isinstance(item.get("examples"), str):
                item["examples"] = _example_texts(item["examples"])
    return data


def _checked(path: str, before: str, after: str, change: Any) -> str:
    """``after`` if it parses to ``before`` with ``change`` (a function over the signature) applied."""
    expected = change(_signature(path, before))
    try:
        actual = _signature(path, after)
    except yaml.YAMLError:
        actual = None
    if actual != expected:
        raise FlowError([f"{path} could not be rewritten line by line; edit it as a file instead"])
    return after


def _block_of(data: Any, intent_name: str, index: int) -> dict[str, Any]:
    return [b for b in data["nlu"] if isinstance(b, dict) and b.get("intent") == intent_name][index]


def _index_in_file(blocks: list[_Block], block: _Block) -> int:
    same = [b.item.start_mark.line for b in blocks if b.intent == block.intent]
    return same.index(block.item.start_mark.line)


def _locate(documents: Mapping[str, str], intent_name: str, text: str) -> tuple[_Block, int]:
    for block in _blocks(documents):
        if block.intent == intent_name and text in block.texts:
            return block, block.texts.index(text)
    raise NotFoundError(f"no example {text!r} in intent {intent_name!r}")


def _editable(block: _Block) -> list[int]:
    if block.lines is None:
        raise FlowError([f"{block.path}: the examples of {block.intent!r} are not a '|' list; edit the file instead"])
    return block.lines


def _replace_line(documents: dict[str, str], intent_name: str, old: str, new: str) -> None:
    block, position = _locate(documents, intent_name, old)
    text = documents[block.path]
    lines = text.splitlines(keepends=True)
    number = _editable(block)[position]
    indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
    lines[number] = f"{indent}- {new}\n"
    index = _index_in_file(_blocks_in(block.path, text), block)

    def change(data: Any) -> Any:
        _block_of(data, intent_name, index)["examples"][position] = new
        return data

    documents[block.path] = _checked(block.path, text, "".join(lines), change)


def _delete_line(documents: dict[str, str], intent_name: str, old: str) -> None:
    block, position = _locate(documents, intent_name, old)
    text = documents[block.path]
    lines = text.splitlines(keepends=True)
    positions = _editable(block)
    blocks = _blocks_in(block.path, text)
    index = _index_in_file(blocks, block)
    if len(positions) == 1:  # the block's last example: the block goes (another file still has some)
        start = block.item.start_mark.line
        after = [b.item.start_mark.line for b in blocks if b.item.start_mark.line > start]
        end = min(after) if after else positions[0] + 1
        del lines[start:end]
        if len(blocks) == 1 and set(_load(text)) <= {"version", "nlu"}:
            del documents[block.path]  # nothing else in the file: it goes too
            return

        def change(data: Any) -> Any:
            data["nlu"].remove(_block_of(data, intent_name, index))
            return data
    else:
        del lines[positions[position]]

        def change(data: Any) -> Any:
            del _block_of(data, intent_name, index)["examples"][position]
            return data

    documents[block.path] = _checked(block.path, text, "".join(lines), change)


def _target_file(documents: Mapping[str, str], intent_name: str) -> _Block | None:
    blocks = [b for b in _blocks(documents) if b.intent == intent_name and b.lines]
    own = [b for b in blocks if b.path == f"nlu/data/nlu/{intent_name}.yml"]
    return (own or blocks)[0] if own or blocks else None


def _append(documents: dict[str, str], intent_name: str, texts: list[str]) -> str:
    """Add examples at the end of the intent's block; returns the file written."""
    block = _target_file(documents, intent_name)
    if block is not None:
        text = documents[block.path]
        lines = text.splitlines(keepends=True)
        last = block.lines[-1]  # type: ignore[index]
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
        lines[last + 1 : last + 1] = [f"{indent}- {t}\n" for t in texts]
        index = _index_in_file(_blocks_in(block.path, text), block)

        def change(data: Any) -> Any:
            _block_of(data, intent_name, index)["examples"].extend(texts)
            return data

        documents[block.path] = _checked(block.path, text, "".join(lines), change)
        return block.path
    path = EXAMPLES_FILE
    before = documents.get(path) or 'version: "3.1"\nnlu:\n'
    if not before.endswith("\n"):
        before += "\n"
    added = f"- intent: {intent_name}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts)

    def append_block(data: Any) -> Any:
        data = data or {}
        data["nlu"] = (data.get("nlu") or []) + [{"intent": intent_name, "examples": list(texts)}]
        return data

    documents[path] = _checked(path, before, before + added, append_block)
    return path


def add_examples(documents: Mapping[str, str], intent_name: str, texts: Iterable[Any]) -> dict[str, str]:
    _known_intent(documents, intent_name)
    problems: list[str] = []
    cleaned: list[str] = []
    seen = _existing(documents)
    for raw in texts:
        text, reasons = _clean(raw)
        problems += reasons
        if not text or reasons:
            continue
        key = normalise(text)
        if key in seen:
            owner, written = seen[key]
            problems.append(f"the example {text!r} already exists (in {owner!r} as {written!r})")
        elif key in {normalise(t) for t in cleaned}:
            problems.append(f"the example {text!r} is given twice")
        else:
            cleaned.append(text)
    if not cleaned and not problems:
        problems.append("no non-empty examples")
    if problems:
        raise FlowError(problems)
    updated = dict(documents)
    _append(updated, intent_name, cleaned)
    return updated


def edit_example(documents: Mapping[str, str], intent_name: str, old: str, new: Any) -> dict[str, str]:
    _known_intent(documents, intent_name)
    _locate(documents, intent_name, old)
    text, problems = _clean(new)
    if not problems:
        if text == old:
            problems.append("nothing changed: the example is the same")
        else:
            owner = _existing(documents).get(normalise(text))
            if owner is not None and owner != (intent_name, old):
                problems.append(f"the example {text!r} already exists (in {owner[0]!r} as {owner[1]!r})")
    if problems:
        raise FlowError(problems)
    updated = dict(documents)
    _replace_line(updated, intent_name, old, text)
    return updated


def _keep_one(documents: Mapping[str, str], intent_name: str, removed: list[str]) -> None:
    remaining = len(intent(documents, intent_name)["examples"]) - len(removed)
    if remaining < 1:
        raise FlowError([f"{intent_name!r} would have no examples left (an intent needs at least one)"])


def remove_example(documents: Mapping[str, str], intent_name: str, old: str) -> dict[str, str]:
    _known_intent(documents, intent_name)
    _locate(documents, intent_name, old)
    _keep_one(documents, intent_name, [old])
    updated = dict(documents)
    _delete_line(updated, intent_name, old)
    return updated


def move_examples(documents: Mapping[str, str], intent_name: str, texts: list[str], to: str) -> dict[str, str]:
    _known_intent(documents, intent_name)
    _known_intent(documents, to)
    problems = []
    if to == intent_name:
        problems.append(f"the examples are already in {to!r}")
    if not texts:
        problems.append("no examples to move")
    if len(set(texts)) != len(texts):
        problems.append("an example is listed twice")
    if problems:
        raise FlowError(problems)
    for text in texts:
        _locate(documents, intent_name, text)
    _keep_one(documents, intent_name, texts)
    updated = dict(documents)
    for text in texts:
        _delete_line(updated, intent_name, text)
    _append(updated, to, list(texts))
    return updated


# --- routing ---------------------------------------------------------------------------------------


@dataclass
class _Rule:
    path: str
    index: int  # among the file's rules
    name: str
    steps: list[Any]


def _slots(condition: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in condition:
        if isinstance(item, dict):
            for entry in item.get("slot_was_set") or []:
                if isinstance(entry, dict):
                    values.update(entry)
    return values


def _loops(condition: list[Any]) -> list[Any]:
    return [item["active_loop"] for item in condition if isinstance(item, dict) and "active_loop" in item]


def _first_action(steps: list[Any]) -> str | None:
    return next((str(s["action"]) for s in steps if isinstance(s, dict) and "action" in s), None)


def _rule_table(documents: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per intent: its ``direct`` rule, or its ``verified``, ``gate`` and ``resume`` rules, and the
    ``interrupts``: (rule, form) for each rule that answers it while that form runs."""
    table: dict[str, dict[str, Any]] = {}
    for path in _data_files(documents):
        data = _load(documents[path])
        if not isinstance(data, dict):
            continue
        for index, rule in enumerate(data.get("rules") or []):
            steps = (rule or {}).get("steps") or [] if isinstance(rule, dict) else []
            if not steps or not all(isinstance(s, dict) for s in steps):
                continue
            found = _Rule(path, index, str(rule.get("rule")), steps)
            condition = rule.get("condition") or []
            slots, loops = _slots(condition), _loops(condition)
            if "intent" in steps[0] and _first_action(steps[1:]):
                name = str(steps[0]["intent"])
                if not condition:
                    table.setdefault(name, {}).setdefault("direct", found)
                elif not loops and slots == {VERIFIED_SLOT: True}:
                    table.setdefault(name, {}).setdefault("verified", found)
                elif not loops and slots == {VERIFIED_SLOT: False}:
                    table.setdefault(name, {}).setdefault("gate", found)
                elif len(loops) == 1 and loops[0] and not slots and "action" in steps[1]:
                    table.setdefault(name, {}).setdefault("interrupts", []).append((found, str(loops[0])))
            elif "action" in steps[0] and loops and PENDING_SLOT in slots and len(slots) == 1:
                table.setdefault(str(slots[PENDING_SLOT]), {}).setdefault("resume", found)
    return table


def _target(entry: Mapping[str, Any]) -> str | None:
    if "direct" in entry:
        return _first_action(entry["direct"].steps[1:])
    if "verified" in entry:
        return _first_action(entry["verified"].steps[1:])
    return None


def _targets(table: Mapping[str, Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """What the editable rules run: for direct intents, and for intents behind the identity check."""
    direct: set[str] = set()
    verified: set[str] = set()
    for name, entry in table.items():
        if name in FIXED_INTENTS or name.startswith("EXTERNAL_"):
            continue
        target = _target(entry)
        if target:
            (direct if "direct" in entry else verified).add(target)
    return direct, verified


@functools.lru_cache(maxsize=1)
def _repository_targets() -> tuple[frozenset[str], frozenset[str]]:
    direct, verified = _targets(_rule_table(flows.repository_documents()))
    return frozenset(direct), frozenset(verified)


def _domain_names(documents: Mapping[str, str]) -> set[str]:
    domain = _domain(documents)
    return set(domain.get("actions") or []) | set(domain.get("forms") or {}) | set(domain.get("responses") or {})


def routes(documents: Mapping[str, str]) -> dict[str, Any]:
    """Which intent starts which flow: one row per intent a rule routes, with the targets it may take
    (what rules of its kind run now or in the repository's version, so a move can always be undone)."""
    table = _rule_table(documents)
    handoff = _target(table.get(HANDOFF_INTENT, {}))
    direct_targets, verified_targets = _targets(table)
    known = _domain_names(documents)
    first_direct, first_verified = _repository_targets()
    direct_targets |= first_direct & known
    verified_targets |= first_verified & known
    if handoff:
        direct_targets.add(handoff)
        verified_targets.add(handoff)
    forms = _forms(documents)
    gates = {_first_action(e["gate"].steps[1:]) for e in table.values() if "gate" in e}
    verified_targets |= forms - gates  # every form but the identity check, even if no rule uses it now
    rows = []
    for name in sorted(table):
        entry = table[name]
        target = _target(entry)
        if target is None:
            continue
        kind = "direct" if "direct" in entry else "after identity check"
        fixed = FIXED_INTENTS.get(name) or ("a scheduler event" if name.startswith("EXTERNAL_") else None)
        options = sorted(direct_targets if kind == "direct" else verified_targets)
        rules = [entry[k].name for k in ("direct", "verified", "gate", "resume") if k in entry]
        rules += [rule.name for rule, _ in entry.get("interrupts", [])]
        rows.append(
            {
                "intent": name,
                "target": target,
                "kind": kind,
                "handoff": target == handoff,
                "editable": fixed is None,
                "fixed": fixed,
                "options": [] if fixed else [_option(t, handoff, forms) for t in options],
                "rules": rules,
                "file": (entry.get("direct") or entry["verified"]).path,
            }
        )
    return {"handoff": handoff, "routes": rows}


def _option(target: str, handoff: str | None, forms: set[str]) -> dict[str, str]:
    if target == handoff:
        label = f"handoff to a person ({target})"
    elif target in forms:
        label = f"form: {target}"
    elif target.startswith("utter_"):
        label = f"reply: {target}"
    else:
        label = f"action: {target}"
    return {"value": target, "label": label}


def _steps_for(target: str, forms: set[str]) -> list[dict[str, str]]:
    return [{"action": target}] + ([{"active_loop": target}] if target in forms else [])


def _interrupt_steps(target: str, form: str, forms: set[str], handoff: str | None) -> list[dict[str, Any]]:
    """What follows the intent while ``form`` runs: the handoff alone (its action ends the form, as in
    the ``request_human`` rule; Rasa refuses an ``active_loop: null`` after an action that is not a
    form), another form takes over, anything else is answered and ``form`` asks its question again."""
    if target == handoff:
        return [{"action": target}]
    if target in forms:
        return _steps_for(target, forms)
    return [{"action": target}, {"action": form}, {"active_loop": form}]


def _last_line(node: yaml.Node) -> int:
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    if isinstance(node, yaml.MappingNode):
        return max([node.start_mark.line] + [_last_line(v) for pair in node.value for v in pair])
    if isinstance(node, yaml.SequenceNode):
        return max([node.start_mark.line] + [_last_line(v) for v in node.value])
    return node.start_mark.line


def _replace_steps(text: str, path: str, key: str, index: int, start: int, stop: int, new: list[Any]) -> str:
    """Replace steps ``[start:stop]`` of item ``index`` of the file's ``key`` list (rules or stories) with
    ``new``, rewriting only those lines."""
    root = _compose(path, text)
    items = _key(root, key)[1].value  # type: ignore[arg-type, index]
    step_nodes = _key(items[index], "steps")[1].value  # type: ignore[index]
    lines = text.splitlines(keepends=True)
    first = step_nodes[start].start_mark.line if start < len(step_nodes) else _last_line(step_nodes[-1]) + 1
    last = _last_line(step_nodes[stop - 1]) + 1 if stop > start else first
    anchor = lines[step_nodes[min(start, len(step_nodes) - 1)].start_mark.line]
    indent = anchor[: anchor.index("-")]
    written = [f"{indent}- {k}: {v}\n" for step in new for k, v in step.items()]
    updated = "".join(lines[:first] + written + lines[last:])

    expected = _load(text)
    expected[key][index]["steps"][start:stop] = new
    if _load(updated) != expected:
        raise FlowError([f"{path} could not be rewritten line by line; edit it as a file instead"])
    return updated


def _story_turns(steps: list[Any], intent_name: str, old: str) -> list[tuple[int, int]]:
    """The (start, stop) step ranges where the bot answers ``intent_name`` with ``old`` in a story."""
    found = []
    for k, step in enumerate(steps):
        if not (isinstance(step, dict) and step.get("intent") == intent_name):
            continue
        stop = next((m for m in range(k + 1, len(steps)) if isinstance(steps[m], dict) and "intent" in steps[m]), None)
        stop = len(steps) if stop is None else stop
        start = next((m for m in range(k + 1, stop) if steps[m] == {"action": old}), None)
        if start is not None:
            found.append((start, stop))
    return found


def set_route(documents: Mapping[str, str], intent_name: str, target: str) -> dict[str, str]:
    """Send ``intent_name`` to ``target``: the rules' steps after the intent and the stories' same turn."""
    table = routes(documents)
    row = next((r for r in table["routes"] if r["intent"] == intent_name), None)
    if row is None:
        raise NotFoundError(f"no rule routes intent {intent_name!r}")
    if row["fixed"]:
        raise FlowError([f"{intent_name!r} cannot be rerouted: {row['fixed']}"])
    allowed = [o["value"] for o in row["options"]]
    if target not in allowed:
        raise FlowError([f"{target!r} is not a target for {intent_name!r}; choose one of {', '.join(allowed)}"])
    old = row["target"]
    if target == old:
        raise FlowError([f"nothing changed: {intent_name!r} already goes to {target!r}"])
    forms = _forms(documents)
    new_steps = _steps_for(target, forms)
    updated = dict(documents)
    entry = _rule_table(documents)[intent_name]
    for kind in ("direct", "verified"):
        if kind in entry:
            rule = entry[kind]
            updated[rule.path] = _replace_steps(
                updated[rule.path], rule.path, "rules", rule.index, 1, len(rule.steps), new_steps
            )
    if "resume" in entry:
        rule = entry["resume"]
        at = max(i for i, s in enumerate(rule.steps) if s == {"action": old})
        updated[rule.path] = _replace_steps(
            updated[rule.path], rule.path, "rules", rule.index, at, len(rule.steps), new_steps
        )
    for rule, form in entry.get("interrupts", []):
        if rule.steps[1] == {"action": old}:  # one answering something else was set apart on purpose
            steps = _interrupt_steps(target, form, forms, table["handoff"])
            updated[rule.path] = _replace_steps(
                updated[rule.path], rule.path, "rules", rule.index, 1, len(rule.steps), steps
            )
    for path in _data_files(updated):
        data = _load(updated[path])
        if not isinstance(data, dict):
            continue
        for index, story in enumerate(data.get("stories") or []):
            steps = (story or {}).get("steps") or []
            # last turn first, so earlier step numbers stay valid; after a form the rest of the story
            # belongs to the old flow, so it goes
            for start, stop in reversed(_story_turns(steps, intent_name, old)):
                end = len(steps) if target in forms else stop
                updated[path] = _replace_steps(updated[path], path, "stories", index, start, end, new_steps)
                steps = _load(updated[path])["stories"][index]["steps"]
    return updated


# --- stored as versions ----------------------------------------------------------------------------


def _store(session: Session, change: Any, *, by: str, summary: str) -> FlowVersion:
    current = flows.seed(session)
    return flows.save(session, change(dict(current.documents)), by=by, summary=summary)


def add_examples_saved(session: Session, intent_name: str, texts: list[Any], *, by: str) -> FlowVersion:
    count = len([t for t in texts if isinstance(t, str) and t.strip()])
    return _store(
        session,
        lambda d: add_examples(d, intent_name, texts),
        by=by,
        summary=f"{count} example{'s' if count != 1 else ''} added to {intent_name}",
    )


def edit_example_saved(session: Session, intent_name: str, old: str, new: str, *, by: str) -> FlowVersion:
    return _store(
        session, lambda d: edit_example(d, intent_name, old, new), by=by, summary=f"example edited in {intent_name}"
    )


def remove_example_saved(session: Session, intent_name: str, old: str, *, by: str) -> FlowVersion:
    return _store(
        session, lambda d: remove_example(d, intent_name, old), by=by, summary=f"example removed from {intent_name}"
    )


def move_examples_saved(session: Session, intent_name: str, texts: list[str], to: str, *, by: str) -> FlowVersion:
    count = len(texts)
    return _store(
        session,
        lambda d: move_examples(d, intent_name, texts, to),
        by=by,
        summary=f"{count} example{'s' if count != 1 else ''} moved from {intent_name} to {to}",
    )


def set_route_saved(session: Session, intent_name: str, target: str, *, by: str) -> FlowVersion:
    return _store(
        session, lambda d: set_route(d, intent_name, target), by=by, summary=f"{intent_name} now goes to {target}"
    )
