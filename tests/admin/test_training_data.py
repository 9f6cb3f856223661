"""Training examples per intent and the routing of intents to flows, edited as flow versions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.errors import NotFoundError
from bot.services import flows
from bot.services import training_data as td
from bot.settings import get_settings
from tests.admin.conftest import count, do

ADMIN = "admin@tagih.example"


@pytest.fixture(autouse=True)
def _seeded(factory) -> None:
    with factory.begin() as session:
        flows.seed(session)


def newest(factory) -> dict[str, str]:
    return do(factory, lambda s: dict(flows.newest(s).documents))


def examples_of(documents, intent: str) -> list[str]:
    return [e["text"] for e in td.intent(documents, intent)["examples"]]


def changed_lines(factory, old: int, new: int) -> list[str]:
    diff = do(factory, lambda s: flows.diff(s, old, new))
    return [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_intents_list_every_example_with_its_file():
    documents = flows.repository_documents()
    listed = {i["name"]: i for i in td.intents(documents)}
    assert "EXTERNAL_reminder" not in listed, "the scheduler's events are not typed by debtors"
    greet = listed["greet"]["examples"]
    assert greet and all(e["file"] == "nlu/data/nlu/greet.yml" for e in greet)
    raw = yaml.safe_load(documents["nlu/data/nlu/greet.yml"])["nlu"][0]["examples"]
    assert [e["text"] for e in greet] == [line[2:] for line in raw.splitlines()]
    assert "regex" not in listed and "account_ref" not in listed
    with pytest.raises(NotFoundError, match="unknown intent"):
        td.intent(documents, "teleport")


def test_add_edit_move_remove_each_write_one_readable_version(factory):
    base = newest(factory)
    greet_before = examples_of(base, "greet")

    added = do(factory, lambda s: td.add_examples_saved(s, "greet", ["  hai  kak\n tagih ", "pagi min"], by=ADMIN))
    assert (added.number, added.created_by, added.summary) == (2, ADMIN, "2 examples added to greet")
    assert examples_of(newest(factory), "greet") == greet_before + ["hai kak tagih", "pagi min"]
    assert changed_lines(factory, 1, 2) == ["+    - hai kak tagih", "+    - pagi min"]
    assert "admin_examples" not in do(factory, lambda s: flows.diff(s, 1, 2)), "added to the intent's own file"

    edited = do(factory, lambda s: td.edit_example_saved(s, "greet", "pagi min", "selamat pagi min", by=ADMIN))
    assert edited.summary == "example edited in greet"
    assert changed_lines(factory, 2, 3) == ["-    - pagi min", "+    - selamat pagi min"]

    moved = do(
        factory,
        lambda s: td.move_examples_saved(s, "greet", ["hai kak tagih", "selamat pagi min"], "goodbye", by=ADMIN),
    )
    assert moved.summary == "2 examples moved from greet to goodbye"
    documents = newest(factory)
    assert examples_of(documents, "greet") == greet_before
    assert examples_of(documents, "goodbye")[-2:] == ["hai kak tagih", "selamat pagi min"]
    assert sorted(changed_lines(factory, 3, 4)) == sorted(
        ["-    - hai kak tagih", "-    - selamat pagi min", "+    - hai kak tagih", "+    - selamat pagi min"]
    )

    removed = do(factory, lambda s: td.remove_example_saved(s, "goodbye", "hai kak tagih", by=ADMIN))
    assert removed.summary == "example removed from goodbye"
    assert changed_lines(factory, 4, 5) == ["-    - hai kak tagih"]
    assert "hai kak tagih" not in {e["text"] for i in td.intents(newest(factory)) for e in i["examples"]}
    history = do(factory, flows.versions)
    assert [v["number"] for v in history] == [5, 4, 3, 2, 1] and history[0]["created_by"] == ADMIN


def test_an_intent_without_examples_gets_a_block_in_the_admin_file():
    documents = dict(flows.repository_documents())
    del documents["nlu/data/nlu/thanks.yml"]
    assert examples_of(documents, "thanks") == []
    once = td.add_examples(documents, "thanks", ["makasih kak"])
    twice = td.add_examples(once, "thanks", ["trims ya"])
    assert yaml.safe_load(twice[td.EXAMPLES_FILE]) == {
        "version": "3.1",
        "nlu": [{"intent": "thanks", "examples": "- makasih kak\n- trims ya\n"}],
    }
    assert [e["file"] for e in td.intent(twice, "thanks")["examples"]] == [td.EXAMPLES_FILE] * 2
    flows.validate(twice)
    moved = td.move_examples(twice, "thanks", ["makasih kak"], "greet")
    assert examples_of(moved, "thanks") == ["trims ya"] and examples_of(moved, "greet")[-1] == "makasih kak"


def test_an_emptied_block_goes_and_an_emptied_admin_file_too():
    documents = dict(flows.repository_documents())
    with_admin = td.add_examples(
        {k: v for k, v in documents.items() if k != "nlu/data/nlu/thanks.yml"}, "thanks", ["a"]
    )
    with_admin = td.add_examples(
        {**with_admin, "nlu/data/nlu/thanks.yml": documents["nlu/data/nlu/thanks.yml"]}, "deny", ["b"]
    )
    assert td.EXAMPLES_FILE not in documents and "- b" not in with_admin[td.EXAMPLES_FILE]
    # "a" lives in the admin file while thanks' own file has the rest: removing it drops the file
    removed = td.remove_example(with_admin, "thanks", "a")
    assert td.EXAMPLES_FILE not in removed
    assert examples_of(removed, "thanks") == examples_of(documents, "thanks")
    flows.validate(removed)


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        (lambda d: td.add_examples(d, "greet", ["   "]), flows.FlowError, "an example is empty"),
        (lambda d: td.add_examples(d, "greet", []), flows.FlowError, "no non-empty examples"),
        (lambda d: td.add_examples(d, "greet", ["x" * 301]), flows.FlowError, "longer than 300 characters"),
        (lambda d: td.add_examples(d, "greet", ["ha\x00i"]), flows.FlowError, "control characters"),
        (lambda d: td.add_examples(d, "teleport", ["beam me up"]), NotFoundError, "unknown intent 'teleport'"),
        (
            lambda d: td.add_examples(d, "greet", ["halo kakak tagih", "HALO  kakak tagih"]),
            flows.FlowError,
            "is given twice",
        ),
        (
            lambda d: td.add_examples(d, "greet", [d["_goodbye"].upper()]),
            flows.FlowError,
            "already exists (in 'goodbye'",
        ),
        (lambda d: td.edit_example(d, "greet", "no such example", "halo"), NotFoundError, "no example"),
        (lambda d: td.edit_example(d, "greet", d["_greet"], ""), flows.FlowError, "an example is empty"),
        (lambda d: td.edit_example(d, "greet", d["_greet"], d["_greet"]), flows.FlowError, "nothing changed"),
        (lambda d: td.edit_example(d, "greet", d["_greet"], d["_goodbye"]), flows.FlowError, "already exists"),
        (lambda d: td.remove_example(d, "greet", "no such example"), NotFoundError, "no example"),
        (lambda d: td.remove_example(d, "teleport", "x"), NotFoundError, "unknown intent"),
        (lambda d: td.move_examples(d, "greet", [d["_greet"]], "greet"), flows.FlowError, "already in 'greet'"),
        (lambda d: td.move_examples(d, "greet", [d["_greet"]], "teleport"), NotFoundError, "unknown intent"),
        (lambda d: td.move_examples(d, "greet", ["no such example"], "deny"), NotFoundError, "no example"),
        (lambda d: td.move_examples(d, "greet", d["_all_greet"], "deny"), flows.FlowError, "no examples left"),
        (lambda d: td.set_route(d, "teleport", "utter_greet"), NotFoundError, "no rule routes intent"),
        (lambda d: td.set_route(d, "stop_contact", "utter_greet"), flows.FlowError, "always honoured"),
        (lambda d: td.set_route(d, "request_human", "utter_greet"), flows.FlowError, "reaches a person"),
        (lambda d: td.set_route(d, "greet", "action_stop_contact"), flows.FlowError, "is not a target"),
        (lambda d: td.set_route(d, "greet", "identity_form"), flows.FlowError, "is not a target"),
        (lambda d: td.set_route(d, "promise_to_pay", "utter_greet"), flows.FlowError, "is not a target"),
        (lambda d: td.set_route(d, "greet", "utter_greet"), flows.FlowError, "nothing changed"),
    ],
)
def test_refusals_give_a_reason_and_store_nothing(factory, change, error, reason):
    documents = newest(factory)
    probe = {
        **documents,
        "_greet": examples_of(documents, "greet")[0],
        "_goodbye": examples_of(documents, "goodbye")[0],
        "_all_greet": examples_of(documents, "greet"),
    }

    def store(session):
        updated = change(probe)
        return flows.save(session, {k: v for k, v in updated.items() if not k.startswith("_")}, by=ADMIN, summary="x")

    with pytest.raises(error, match=re.escape(reason)):
        do(factory, store)
    assert count(factory) == 1


def test_duplicates_ignore_entity_annotations_case_and_spaces():
    assert td.normalise("Sy bayar  [besok](date)") == td.normalise("sy bayar besok") == "sy bayar besok"
    assert td.normalise('[25]{"entity": "day"} ya') == "25 ya"


def test_routing_table_reads_the_rules():
    table = td.routes(flows.repository_documents())
    rows = {r["intent"]: r for r in table["routes"]}
    assert table["handoff"] == "action_request_human"
    assert rows["request_human"]["handoff"] and not rows["request_human"]["editable"]
    assert (rows["promise_to_pay"]["target"], rows["promise_to_pay"]["kind"]) == (
        "promise_form",
        "after identity check",
    )
    assert rows["cannot_pay"]["target"] == "hardship_form"
    assert (rows["greet"]["target"], rows["greet"]["kind"]) == ("utter_greet", "direct")
    assert not rows["stop_contact"]["editable"] and not rows["change_language"]["editable"]
    assert not rows["EXTERNAL_reminder"]["editable"]
    gated = {o["value"] for o in rows["promise_to_pay"]["options"]}
    assert {"promise_form", "installment_form", "action_ask_balance", "action_request_human"} <= gated
    assert "identity_form" not in gated and "utter_greet" not in gated
    direct = {o["value"] for o in rows["greet"]["options"]}
    assert {"utter_greet", "utter_how_can_i_help", "action_default_fallback", "action_request_human"} <= direct
    assert not direct & {"action_stop_contact", "action_change_language", "promise_form"}
    labels = {o["value"]: o["label"] for o in rows["greet"]["options"]}
    assert labels["action_request_human"].startswith("handoff to a person")


def test_rerouting_to_a_handoff_rewrites_the_rules_and_the_stories_turn(factory):
    before = newest(factory)
    version = do(factory, lambda s: td.set_route_saved(s, "promise_to_pay", "action_request_human", by=ADMIN))
    assert version.summary == "promise_to_pay now goes to action_request_human"
    after = newest(factory)
    rows = {r["intent"]: r for r in td.routes(after)["routes"]}
    assert rows["promise_to_pay"]["target"] == "action_request_human" and rows["promise_to_pay"]["handoff"]
    rules = {r["rule"]: r["steps"] for r in yaml.safe_load(after["nlu/data/rules.yml"])["rules"]}
    assert rules["promise_to_pay when verified"] == [{"intent": "promise_to_pay"}, {"action": "action_request_human"}]
    assert rules["resume promise_to_pay after identity"][-1] == {"action": "action_request_human"}
    assert rules["promise_to_pay needs identity first"][1] == {"action": "identity_form"}, "the identity check stays"
    assert rules["request_extension when verified"][1] == {"action": "promise_form"}, "other intents keep theirs"
    story = {s["story"]: s["steps"] for s in yaml.safe_load(after["nlu/data/stories.yml"])["stories"]}[
        "verified debtor promises to pay"
    ]
    assert {"action": "promise_form"} not in story
    assert story[-3:] == [{"action": "action_request_human"}, {"intent": "thanks"}, {"action": "utter_you_are_welcome"}]
    assert sorted(p for p in after if after[p] != before[p]) == ["nlu/data/rules.yml", "nlu/data/stories.yml"]
    lines = changed_lines(factory, 1, 2)
    assert lines.count("+  - action: action_request_human") == 3 and len(lines) == 3 + 4 + 6, lines

    do(factory, lambda s: td.set_route_saved(s, "promise_to_pay", "promise_form", by=ADMIN))
    assert newest(factory)["nlu/data/rules.yml"] == before["nlu/data/rules.yml"], "routing back restores the rules"


def test_rerouting_a_direct_intent_and_between_forms(factory):
    do(factory, lambda s: td.set_route_saved(s, "greet", "utter_how_can_i_help", by=ADMIN))
    assert changed_lines(factory, 1, 2) == [
        "-  - action: utter_greet",
        "+  - action: utter_how_can_i_help",
        "-  - action: utter_greet",
        "+  - action: utter_how_can_i_help",
    ], "the rule and the story's turn, nothing else"
    do(factory, lambda s: td.set_route_saved(s, "cannot_pay", "installment_form", by=ADMIN))
    after = newest(factory)
    rules = {r["rule"]: r["steps"] for r in yaml.safe_load(after["nlu/data/rules.yml"])["rules"]}
    assert rules["cannot_pay when verified"][1:] == [
        {"action": "installment_form"},
        {"active_loop": "installment_form"},
    ]
    story = {s["story"]: s["steps"] for s in yaml.safe_load(after["nlu/data/stories.yml"])["stories"]}[
        "hardship leads to an installment plan"
    ]
    assert story[-2:] == [{"action": "installment_form"}, {"active_loop": "installment_form"}]
    assert {"action": "hardship_form"} not in story, "the old form's turn and what followed it are gone"


def during_forms(documents: dict[str, str], intent_name: str) -> dict[str, list[dict]]:
    """The steps of the rules that answer ``intent_name`` while a form runs, by form."""
    rules = yaml.safe_load(documents["nlu/data/interruptions.yml"])["rules"]
    return {r["condition"][0]["active_loop"]: r["steps"] for r in rules if r["steps"][0] == {"intent": intent_name}}


def test_rerouting_also_rewrites_what_the_intent_does_in_the_middle_of_a_form(factory):
    before = newest(factory)
    forms = set(during_forms(before, "ask_balance"))
    assert {"promise_form", "installment_form"} <= forms
    row = next(r for r in td.routes(before)["routes"] if r["intent"] == "ask_balance")
    assert "ask_balance during promise_form" in row["rules"]

    # An action instead: answered, then the form asks its question again.
    do(factory, lambda s: td.set_route_saved(s, "ask_payment_method", "action_ask_balance", by=ADMIN))
    for form, steps in during_forms(newest(factory), "ask_payment_method").items():
        assert steps[1:] == [{"action": "action_ask_balance"}, {"action": form}, {"active_loop": form}]
    # A handoff: its action ends the form, so the rule says nothing more (as the request_human rule).
    do(factory, lambda s: td.set_route_saved(s, "ask_balance", "action_request_human", by=ADMIN))
    moved = during_forms(newest(factory), "ask_balance")
    assert set(moved) == forms
    assert all(steps[1:] == [{"action": "action_request_human"}] for steps in moved.values())
    # Another form takes over.
    do(factory, lambda s: td.set_route_saved(s, "ask_balance", "dispute_form", by=ADMIN))
    assert all(
        steps[1:] == [{"action": "dispute_form"}, {"active_loop": "dispute_form"}]
        for steps in during_forms(newest(factory), "ask_balance").values()
    )
    after = newest(factory)
    assert during_forms(after, "change_language") == during_forms(before, "change_language"), "fixed intents stay"

    # No rule runs action_payment_method now, yet it stays a target: every move can be undone.
    row = next(r for r in td.routes(after)["routes"] if r["intent"] == "ask_payment_method")
    assert "action_payment_method" in {o["value"] for o in row["options"]}
    do(factory, lambda s: td.set_route_saved(s, "ask_balance", "action_ask_balance", by=ADMIN))
    do(factory, lambda s: td.set_route_saved(s, "ask_payment_method", "action_payment_method", by=ADMIN))
    restored = newest(factory)
    for path in ("nlu/data/interruptions.yml", "nlu/data/rules.yml"):
        assert restored[path] == before[path], path


@pytest.mark.rasa
@pytest.mark.parametrize(
    "moves",
    [
        [
            ("promise_to_pay", "action_request_human"),
            ("cannot_pay", "installment_form"),
            ("greet", "action_request_human"),
            ("ask_payment_method", "action_ask_balance"),
            ("ask_balance", "dispute_form"),
        ],
        [("ask_balance", "action_request_human"), ("ask_payment_method", "promise_form")],
    ],
    ids=["actions-and-forms", "handoff-during-forms"],
)
def test_a_rerouted_flow_set_passes_rasas_rule_checks(tmp_path: Path, moves):
    """Rasa's RulePolicy refuses rules that contradict the stories or each other; the rewritten set,
    the rules that apply in the middle of a form included, must train."""
    documents = flows.repository_documents()
    for intent_name, target in moves:
        documents = td.set_route(documents, intent_name, target)
    assert documents["nlu/data/interruptions.yml"] != flows.repository_documents()["nlu/data/interruptions.yml"]
    flows.validate(documents)
    for path, text in documents.items():
        if path.startswith("nlu/"):
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
    config = yaml.safe_load(documents["nlu/config.yml"])
    config["policies"] = [{"name": "RulePolicy"}]  # only the rules' checks: quick, no TED training
    (tmp_path / "nlu" / "rules-only.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [str(get_settings().rasa_bin), "train", "core", "--config", "rules-only.yml", "--domain", "domain.yml"]
        + ["--stories", "data", "--out", str(tmp_path / "models")],
        cwd=tmp_path / "nlu",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0 and "contradicting" not in result.stdout, result.stdout[-3000:]
    assert list((tmp_path / "models").glob("*.tar.gz"))
