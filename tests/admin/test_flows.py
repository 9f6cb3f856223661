"""Versions of the flow set: live edits, validation, diff, restore, export and import."""

from __future__ import annotations

import pytest
import yaml

from bot.cli import main
from bot.dialogue.responses import ResponseCatalogue
from bot.errors import NotFoundError
from bot.outreach.ladder import active_ladder
from bot.services import flows
from tests.admin.conftest import count, do


def test_the_repository_is_version_one(factory):
    version = do(factory, flows.seed)
    assert version.number == 1 and version.created_by == "repository"
    assert version.documents == flows.repository_documents()
    assert do(factory, flows.seed).number == 1, "seeding twice keeps one version"


def test_response_edit_is_live_diffable_and_restorable(factory):
    do(factory, flows.seed)  # the app seeds at start
    live = flows.LiveResponses(factory, ResponseCatalogue({}), refresh=0)
    before = live.render("utter_greet", "id", company_name="Tagih Finance")["text"]
    do(
        factory,
        lambda s: flows.edit_response(
            s,
            "utter_greet",
            {"id": "Selamat datang di {company_name}!", "en": "Welcome to {company_name}!"},
            by="admin@x",
        ),
    )
    assert live.render("utter_greet", "id", company_name="Tagih Finance")["text"] == "Selamat datang di Tagih Finance!"
    assert live.render("utter_greet", "en", company_name="Tagih Finance")["text"] == "Welcome to Tagih Finance!"
    diff = do(factory, lambda s: flows.diff(s, 1, 2))
    assert diff.startswith("--- v1/nlu/domain.yml") and diff.count("\n@@ ") == 1, "one hunk: only the edit"
    assert "+    - text: Selamat datang di {company_name}!" in diff
    assert "Check my bill" in diff and "-        - {title: Check my bill" not in diff, "English buttons kept"
    restored = do(factory, lambda s: flows.restore(s, 1, by="admin@x"))
    assert restored.number == 3 and restored.summary == "restored version 1"
    assert live.render("utter_greet", "id", company_name="Tagih Finance")["text"] == before
    assert [v["number"] for v in do(factory, flows.versions)] == [3, 2, 1]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: flows.edit_response(s, "utter_greet", {"id": " ", "en": "Hi"}, by="a"), "id text is empty"),
        (
            lambda s: flows.edit_response(s, "utter_greet", {"id": "Hai", "en": "Hi", "fr": "Salut"}, by="a"),
            "unknown languages",
        ),
        (lambda s: flows.edit_document(s, "nlu/data/rules.yml", "rules: [", by="a"), "invalid YAML"),
        (
            lambda s: flows.edit_document(
                s,
                "nlu/data/nlu/extra.yml",
                'version: "3.1"\nnlu:\n- intent: teleport\n  examples: |\n    - beam me up\n',
                by="a",
            ),
            "unknown intent 'teleport'",
        ),
        (
            lambda s: flows.edit_document(
                s,
                flows.LADDER,
                flows.seed(s).documents[flows.LADDER].replace("offset: 0\n", "offset: -3\n"),
                by="a",
            ),
            "overlaps",
        ),
        (lambda s: flows.restore(s, 1, by="a"), "nothing changed"),
    ],
)
def test_malformed_edits_are_refused_and_change_nothing(factory, change, reason):
    do(factory, flows.seed)
    with pytest.raises(flows.FlowError) as caught:
        do(factory, change)
    assert reason in str(caught.value)
    assert count(factory) == 1


def test_unknown_response_is_not_found(factory):
    with pytest.raises(NotFoundError):
        do(factory, lambda s: flows.edit_response(s, "utter_nothing", {"id": "a", "en": "b"}, by="a"))


def test_ladder_edits_apply_to_the_scheduler(factory):
    def shorten(session):
        text = flows.seed(session).documents[flows.LADDER].replace("offset: -3\n", "offset: -5\n")
        return flows.edit_document(session, flows.LADDER, text, by="admin@x")

    do(factory, shorten)
    assert do(factory, lambda s: active_ladder(s).stage("d-3").offset) == -5


def test_export_then_import_round_trip_with_the_cli(factory, tmp_path, capsys):
    target = tmp_path / "flows"
    assert main(["flows", "export", str(target)]) == 0
    assert (target / "nlu" / "domain.yml").exists() and (target / "scheduler" / "ladder.yml").exists()
    domain = yaml.safe_load((target / "nlu" / "domain.yml").read_text())
    domain["responses"]["utter_goodbye"][0]["text"] = "Sampai jumpa lagi!"
    (target / "nlu" / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False))
    assert main(["flows", "import", str(target), "--by", "ops@lender.example"]) == 0
    assert "flow version 2" in capsys.readouterr().out
    live = flows.LiveResponses(factory, ResponseCatalogue({}), refresh=0)
    assert live.render("utter_goodbye", "id")["text"] == "Sampai jumpa lagi!"

    (target / "nlu" / "data" / "rules.yml").write_text("rules: [\n")
    assert main(["flows", "import", str(target)]) == 1
    err = capsys.readouterr().err
    assert "nlu/data/rules.yml: invalid YAML" in err and "nothing was imported" in err
    assert count(factory) == 2
    assert main(["flows", "export", str(target)]) == 2, "never overwrites a directory"


def test_export_writes_rasa_training_files(factory, tmp_path):
    do(factory, flows.seed)
    out = do(factory, lambda s: flows.export_version(s, 1, tmp_path / "train"))
    assert sorted(p.name for p in out.iterdir()) == ["config.yml", "data", "domain.yml"]
