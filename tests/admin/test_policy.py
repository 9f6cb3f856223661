"""The collection policy as a versioned, admin-edited document: validation with every reason, edits
that touch only their own lines, and live application to the bot, the console and the reminders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.db.models import Account, Promise
from bot.db.session import make_engine, make_session_factory, migrate
from bot.domain.contact_rules import INDONESIA, US_REGULATION_F
from bot.errors import PolicyError
from bot.outreach.gate import contact_profile
from bot.services import console, flows, policy
from bot.services.accounts import load_demo_if_empty
from bot.services.conversations import get_or_create_conversation
from bot.services.identity import link_conversation
from bot.web.app import create_app
from tests.admin.conftest import count
from tests.console_support import logged_in_clients, make_user
from tests.support import FIXED_NOW, fixed_clock, make_settings

ADMIN, AGENT = "policy-admin@tagih.example", "policy-agent@tagih.example"
DEFAULT_TEXT = policy.DEFAULT_FILE.read_text(encoding="utf-8")


def data(**changes: object) -> dict:
    document = yaml.safe_load(DEFAULT_TEXT)
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = document
        for part in parents:
            target = target[part]
        target[key] = value
    return document


def test_the_repository_policy_is_version_1_and_parses():
    parsed = policy.default_policy()
    assert parsed.profile == INDONESIA
    assert parsed.bot.max_promise_days == 14 and parsed.bot.installments.max_installments == 6
    assert parsed.bot.early_settlement is None, "0% means no discount is offered"
    assert parsed.agents.max_promise_days == 30 and parsed.agents.installments.min_installment == Decimal(50000)
    assert policy.POLICY_PATH in flows.repository_documents()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"rules__profile": "wild_west"}, "rules.profile must be one of indonesia, us_regulation_f"),
        ({"rules__max_per_day": 3}, "rules.max_per_day must be between 1 and 1"),
        ({"rules__max_per_week": 9}, "rules.max_per_week must be between 1 and 4"),
        ({"arrangements__max_promise_days": 0}, "arrangements.max_promise_days must be between 1 and 365"),
        ({"arrangements__max_installments": "six"}, "arrangements.max_installments must be a whole number"),
        ({"arrangements__min_installment": -5}, "arrangements.min_installment must be between 0 and"),
        ({"arrangements__early_settlement__discount_percent": 80}, "discount_percent must be between 0 and 50"),
        (
            {
                "arrangements__early_settlement__discount_percent": 10,
                "arrangements__early_settlement__pay_within_days": 30,
            },
            "early_settlement.pay_within_days must be between 1 and 14",
        ),
        ({"agents__max_installments": True}, "agents.max_installments must be a whole number"),
        ({"payment_instructions__en": ""}, "payment_instructions.en must not be empty"),
        ({"payment_instructions__id": "Bayar ke {rekening}"}, "unknown or broken placeholder 'rekening'"),
    ],
)
def test_a_bad_policy_is_refused_with_its_reason(changes, reason):
    with pytest.raises(policy.PolicyDocumentError) as refused:
        policy.parse(data(**changes))
    assert any(reason in str(problem) for problem in refused.value.problems), refused.value.problems


def test_every_problem_is_listed_at_once():
    with pytest.raises(policy.PolicyDocumentError) as refused:
        policy.parse(data(rules__profile="x", agents__max_promise_days=0, payment_instructions__en=""))
    assert len(refused.value.problems) == 3


def test_caps_can_only_tighten_the_profile():
    tighter = policy.parse(data(rules__profile="us_regulation_f", rules__max_per_week=3))
    assert tighter.profile.max_per_week == 3 and tighter.profile.max_per_day == US_REGULATION_F.max_per_day
    assert tighter.profile.footer == US_REGULATION_F.footer, "the profile's other rules stay"
    with pytest.raises(policy.PolicyDocumentError):
        policy.parse(data(rules__profile="us_regulation_f", rules__max_per_week=8))


def test_early_settlement_amount_and_deadline():
    offer = policy.parse(data(arrangements__early_settlement__discount_percent=12.5)).bot.early_settlement
    assert offer is not None
    assert offer.amount(Decimal("1500000")) == Decimal("1312500")
    assert offer.amount(Decimal("1000001")) == Decimal("875001"), "the discount is rounded to a whole unit"
    assert offer.deadline(date(2026, 11, 23)) == date(2026, 11, 30)


def test_rewrite_changes_only_the_edited_lines():
    edited = policy.rewrite(
        DEFAULT_TEXT,
        {"arrangements": {"max_promise_days": 10}, "payment_instructions": {"en": 'Pay "now" to {virtual_account}'}},
    )
    changed = [
        (old, new) for old, new in zip(DEFAULT_TEXT.splitlines(), edited.splitlines(), strict=True) if old != new
    ]
    assert len(changed) == 2
    assert changed[0][1].startswith("  max_promise_days: 10          # latest promise"), "the comment stays in place"
    assert policy.parse_text(edited).payment_instructions["en"] == 'Pay "now" to {virtual_account}'
    with pytest.raises(policy.PolicyDocumentError, match="not an editable setting: rules.start"):
        policy.rewrite(DEFAULT_TEXT, {"rules": {"start": "06:00"}})


@pytest.fixture
def factory(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    migrate(url)
    return make_session_factory(make_engine(url))


def do(factory, work):
    with factory.begin() as session:
        return work(session)


def test_an_edit_is_a_new_version_and_a_refused_one_stores_nothing(factory):
    version = do(factory, lambda s: policy.edit(s, {"rules": {"max_per_week": 2}}, by=ADMIN))
    assert version.number == 2 and version.summary == "policy edited: rules.max_per_week"
    assert do(factory, lambda s: contact_profile(s).max_per_week) == 2, "the reminders' rules follow at once"
    with pytest.raises(flows.FlowError, match="rules.max_per_day must be between 1 and 1"):
        do(factory, lambda s: policy.edit(s, {"rules": {"max_per_day": 5}}, by=ADMIN))
    with pytest.raises(flows.FlowError, match="nothing changed"):
        do(factory, lambda s: policy.edit(s, {"rules": {"max_per_week": 2}}, by=ADMIN))
    assert count(factory) == 2
    restored = do(factory, lambda s: flows.restore(s, 1, by=ADMIN))
    assert restored.number == 3 and do(factory, lambda s: contact_profile(s).max_per_week) == INDONESIA.max_per_week


def test_an_imported_flow_set_with_a_bad_policy_is_refused(factory, tmp_path):
    do(factory, lambda s: flows.export_all(s, None, tmp_path / "set"))
    (tmp_path / "set" / policy.POLICY_PATH).write_text("rules: [", encoding="utf-8")
    with pytest.raises(flows.FlowError, match="bot/data/policy.yml: invalid YAML"):
        do(factory, lambda s: flows.import_directory(s, tmp_path / "set", by=ADMIN))
    (tmp_path / "set" / policy.POLICY_PATH).write_text(DEFAULT_TEXT.replace("profile: indonesia", "profile: x"))
    with pytest.raises(flows.FlowError, match="rules.profile must be one of"):
        do(factory, lambda s: flows.import_directory(s, tmp_path / "set", by=ADMIN))


def test_a_version_without_the_policy_uses_the_default(factory):
    """Versions stored before the policy was part of the flow set keep working."""

    def drop_policy(session):
        documents = dict(flows.seed(session).documents)
        del documents[policy.POLICY_PATH]
        return flows.save(session, documents, by=ADMIN, summary="older layout")

    do(factory, drop_policy)
    assert do(factory, policy.active_policy) == policy.default_policy()


# The app: the admin API and the policy applied live to the bot's actions and the console.


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[object, object]]:
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    session_factory = make_session_factory(make_engine(settings.database_url))
    load_demo_if_empty(session_factory)
    make_user(session_factory, ADMIN, "admin")
    make_user(session_factory, AGENT, "agent")
    with session_factory.begin() as session:
        conversation, _ = get_or_create_conversation(session, channel="web", sender_id="budi", language="id")
        account = session.scalar(select(Account).where(Account.ref == "DEMO-1001"))
        link_conversation(session, conversation, account.debtor, how="test", now=FIXED_NOW)
        conversation.account_id = account.id
    with logged_in_clients(create_app(settings, clock=fixed_clock)) as open_client:
        yield open_client, session_factory


def run_action(client: TestClient, action: str, text: str = "", slots: dict | None = None) -> str:
    call = {
        "next_action": action,
        "sender_id": "web:budi",
        "tracker": {
            "sender_id": "web:budi",
            "slots": {"language": "en", "verified": True, **(slots or {})},
            "latest_message": {"text": text, "intent": {"name": "promise_to_pay"}},
            "events": [],
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }
    response = client.post("/actions/webhook?token=test-action-token", json=call)
    assert response.status_code == 200, response.text
    return " ".join(r.get("text") or "" for r in response.json()["responses"])


def put_policy(client: TestClient, token: str | None, body: dict) -> object:
    return client.put("/admin/api/policy", json=body, headers={"X-CSRF-Token": token or ""})


def test_only_admins_edit_the_policy_with_the_csrf_token(stack):
    open_client, session_factory = stack
    anonymous, _ = open_client()
    agent, agent_token = open_client(AGENT)
    admin, token = open_client(ADMIN)
    body = {"rules": {"max_per_week": 2}}
    assert anonymous.get("/admin/api/policy").status_code == 401
    assert agent.get("/admin/api/policy").status_code == 403
    assert put_policy(agent, agent_token, body).status_code == 403
    assert admin.put("/admin/api/policy", json=body).status_code == 403, "no CSRF token"
    assert count(session_factory) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"rules": {"max_per_day": 2}}, "rules.max_per_day must be between 1 and 1"),
        ({"rules": {"profile": "mars"}}, "Input should be 'indonesia' or 'us_regulation_f'"),
        ({"arrangements": {"early_settlement": {"discount_percent": 60}}}, "less than or equal to 50"),
        ({"arrangements": {"max_promise_days": None}}, "arrangements.max_promise_days must be a whole number"),
        ({"payment_instructions": {"id": "Bayar ke {bank}"}}, "unknown or broken placeholder 'bank'"),
        ({"rules": {"start": "06:00"}}, "Extra inputs are not permitted"),
        ({}, "nothing to change"),
    ],
)
def test_bad_policy_edits_are_refused_and_change_nothing(stack, body, reason):
    open_client, session_factory = stack
    admin, token = open_client(ADMIN)
    before = admin.get("/admin/api/policy").json()
    response = put_policy(admin, token, body)
    assert response.status_code == 422 and reason in response.text, response.text
    assert admin.get("/admin/api/policy").json() == before
    assert count(session_factory) == 1


def test_policy_edits_apply_to_the_next_turn_and_the_console(stack):
    open_client, session_factory = stack
    admin, token = open_client(ADMIN)
    # 2026-12-05 is 12 days after the fixed clock's today: inside the default 14-day horizon
    assert "latest" not in run_action(admin, "validate_promise_form", "I will pay on 5 December 2026")
    assert "At most 6" in run_action(admin, "action_ask_installment_count")
    assert "BCA virtual account" in run_action(admin, "action_payment_method")

    state = admin.get("/admin/api/policy").json()
    assert state["rules"] == {"profile": "indonesia", "max_per_day": None, "max_per_week": None}
    assert state["applied_caps"] == {"max_per_day": 1, "max_per_week": 4}
    response = put_policy(
        admin,
        token,
        {
            "arrangements": {"max_promise_days": 10, "max_installments": 3, "min_installment": 200000},
            "agents": {"max_promise_days": 20},
            "payment_instructions": {"en": "Pay into Mandiri VA {virtual_account} ({company}), ref {account_ref}."},
        },
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["number"] == 2 and edited["arrangements"]["max_promise_days"] == 10
    diff = admin.get("/admin/api/flows/diff?old=1&new=2").text
    assert [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")] == [
        "+  max_promise_days: 10          # latest promise-to-pay or extension date, in days from today",
        "+  max_installments: 3",
        "+  min_installment: 200000       # in the account's currency",
        "+  max_promise_days: 20",
        '+  en: "Pay into Mandiri VA {virtual_account} ({company}), ref {account_ref}."',
    ]

    # beyond the agents' 20 days too (within them it would go to a person as a proposal)
    too_far = run_action(admin, "validate_promise_form", "I will pay on 20 December 2026")
    assert "the latest payment date we can accept is 3 December 2026" in too_far, too_far
    assert "At most 3" in run_action(admin, "action_ask_installment_count")
    assert "Pay into Mandiri VA 8890800001001 (Tagih Finance), ref DEMO-1001." in run_action(
        admin, "action_payment_method"
    )
    with session_factory.begin() as session:
        agents = console.agent_policy(session)
        assert agents.max_promise_days == 20 and agents.installments.max_first_days == 20


def test_agents_are_held_to_the_policy_in_force(stack):
    open_client, session_factory = stack
    admin, token = open_client(ADMIN)
    assert put_policy(admin, token, {"agents": {"max_installments": 2}}).status_code == 200
    with session_factory.begin() as session:
        account = session.scalar(select(Account).where(Account.ref == "DEMO-1001"))
        with pytest.raises(PolicyError):
            from bot.services.arrangements import record_installment_plan

            record_installment_plan(
                session,
                account=account,
                conversation=None,
                count=3,
                first_date=date(2026, 11, 30),
                today=date(2026, 11, 23),
                policy=console.agent_policy(session),
            )


def test_settings_that_moved_into_the_policy_are_reported_at_start(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TAGIH_MAX_PROMISE_DAYS", "30")
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    with caplog.at_level("WARNING"), TestClient(create_app(settings, clock=fixed_clock)):
        pass
    assert "TAGIH_MAX_PROMISE_DAYS is no longer read: set it in the collection policy" in caplog.text


def test_the_early_settlement_offer_is_made_and_honoured_by_the_bot(stack):
    open_client, session_factory = stack
    admin, token = open_client(ADMIN)
    assert "settle early" not in run_action(admin, "action_ask_installment_count")
    body = {"arrangements": {"early_settlement": {"discount_percent": 10, "pay_within_days": 7}}}
    assert put_policy(admin, token, body).status_code == 200

    offer = "Or settle early: pay just IDR 1,350,000 (10% off IDR 1,500,000) by 30 November 2026 and we waive the rest."
    assert offer in run_action(admin, "action_ask_installment_count")
    assert offer in run_action(admin, "action_ask_balance")
    recorded = run_action(
        admin,
        "action_record_promise",
        slots={"promise_amount": "1500000", "promise_date": "2026-11-28", "promise_confirmed": True},
    )
    assert "you get 10% off: just pay IDR 1,350,000 (instead of IDR 1,500,000)" in recorded, recorded
    with session_factory() as session:
        promise = session.scalars(select(Promise).order_by(Promise.id.desc())).first()
        assert (promise.kind, promise.amount, promise.promised_date) == (
            "settlement",
            Decimal("1350000.00"),
            date(2026, 11, 28),
        )


def test_the_page_state_shows_the_offer_window_even_without_a_discount(stack):
    open_client, _ = stack
    admin, _ = open_client(ADMIN)
    state = admin.get("/admin/api/policy").json()
    assert state["arrangements"]["early_settlement"] == {"discount_percent": "0", "pay_within_days": 7}
    assert state["profiles"]["us_regulation_f"] == {"max_per_day": 1, "max_per_week": 7, "holidays": None}
