"""The operations API: key checks before anything else, payments, bulk account upsert, account snapshot."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, AuditLog, Debtor, Payment, Promise
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import account_snapshot, import_account_rows
from bot.web.app import create_app
from tests.support import FIXED_NOW, fixed_clock, make_settings

KEY, OTHER_KEY = "test-api-key-1", "test-api-key-2"
AUTH = {"X-API-Key": KEY}


def account_row(ref: str, phone: str, **changes: Any) -> dict[str, Any]:
    return {
        "account_ref": ref,
        "name": f"Debtor {ref}",
        "phone": phone,
        "language": "id",
        "timezone": "Asia/Jakarta",
        "currency": "IDR",
        "amount_due": "1500000",
        "due_date": "2026-11-15",
        "birth_date": "1990-01-01",
    } | changes


def make_client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    config = make_settings(tmp_path, **settings)
    migrate(config.database_url)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        import_account_rows(
            session,
            [account_row("A-1", "+6281234567801"), account_row("A-2", "+6281234567802", amount_due="750000")],
            now=FIXED_NOW,
        )
    with TestClient(create_app(config, clock=fixed_clock)) as client:
        client.session_factory = factory  # type: ignore[attr-defined]
        yield client
    engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path, TAGIH_API_KEYS=f"{KEY},{OTHER_KEY}")


def factory_of(client: TestClient) -> sessionmaker[Session]:
    return client.session_factory  # type: ignore[attr-defined]


def database_state(client: TestClient) -> tuple:
    """Everything a request could change."""
    with factory_of(client)() as session:
        return (
            [tuple(r) for r in session.execute(select(Account.__table__).order_by(Account.id))],
            [tuple(r) for r in session.execute(select(Debtor.__table__).order_by(Debtor.id))],
            [tuple(r) for r in session.execute(select(Payment.__table__).order_by(Payment.id))],
            session.scalar(select(func.count()).select_from(AuditLog)),
        )


def payment_body(**changes: Any) -> dict[str, Any]:
    return {
        "account_ref": "A-1",
        "amount": "500000.00",
        "currency": "IDR",
        "paid_at": "2026-11-22T14:30:00+07:00",
        "reference": "BCA-0001",
    } | changes


REQUESTS = [
    ("post", "/api/payments", payment_body()),
    ("post", "/api/accounts", {"accounts": [account_row("A-9", "+6281234567809")]}),
    ("get", "/api/accounts/A-1", None),
]


def send(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]):
    if body is None:
        return client.request(method, url, headers=headers)
    return client.request(method, url, json=body, headers=headers)


# ---------------------------------------------------------------------------------------------------
# Authentication


@pytest.mark.parametrize(("method", "url", "body"), REQUESTS)
@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing API key"),
        ({"X-API-Key": "wrong"}, "invalid API key"),
        ({"X-API-Key": KEY + "x"}, "invalid API key"),
        ({"Authorization": "Bearer wrong"}, "invalid API key"),
        ({"Authorization": f"Basic {KEY}"}, "missing API key"),
        ({"X-API-Key": ""}, "missing API key"),
    ],
)
def test_every_route_refuses_a_missing_or_wrong_key_and_changes_nothing(
    client: TestClient, method: str, url: str, body: Any, headers: dict, reason: str
) -> None:
    before = database_state(client)
    response = send(client, method, url, body, headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert database_state(client) == before


def test_the_key_is_checked_before_the_body_is_read(client: TestClient) -> None:
    response = client.post("/api/payments", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "url", "body"), REQUESTS)
def test_without_configured_keys_the_api_is_disabled(tmp_path: Path, method: str, url: str, body: Any) -> None:
    for client in make_client(tmp_path):
        before = database_state(client)
        response = send(client, method, url, body, AUTH)
        assert response.status_code == 503
        assert response.json()["detail"] == "API disabled: set TAGIH_API_KEYS"
        assert database_state(client) == before


def test_bearer_key_is_accepted_and_the_audit_names_a_fingerprint_not_the_key(client: TestClient) -> None:
    response = client.post("/api/payments", json=payment_body(), headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert response.status_code == 201
    with factory_of(client)() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "payment.recorded")).one()
    assert entry.actor == "api:" + hashlib.sha256(OTHER_KEY.encode()).hexdigest()[:12]
    assert OTHER_KEY not in str(entry.details)


# ---------------------------------------------------------------------------------------------------
# POST /api/payments


def test_record_a_payment_then_the_same_again(client: TestClient) -> None:
    response = client.post("/api/payments", json=payment_body(), headers=AUTH)
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created"
    assert body["payment"] | {"id": None} == {
        "id": None,
        "account_ref": "A-1",
        "amount": "500000.00",
        "currency": "IDR",
        "paid_at": "2026-11-22T07:30:00+00:00",
        "reference": "BCA-0001",
        "source": "api",
    }
    assert body["account"] == {
        "ref": "A-1",
        "currency": "IDR",
        "amount_due": "1500000.00",
        "paid_total": "500000.00",
        "waived": "0.00",
        "balance": "1000000.00",
        "status": "active",
    }
    with factory_of(client)() as session:
        payment = session.scalars(select(Payment)).one()
        assert (payment.id, payment.amount, payment.source) == (body["payment"]["id"], Decimal("500000.00"), "api")

    before = database_state(client)
    again = client.post("/api/payments", json=payment_body(amount=500000), headers=AUTH)
    assert again.status_code == 200
    assert again.json() == body | {"outcome": "duplicate"}
    assert database_state(client) == before


def test_amount_as_a_json_number_is_exact(client: TestClient) -> None:
    exact = b'{"account_ref": "A-1", "amount": 100000.10, "paid_at": "2026-11-22", "reference": "N-1"}'
    response = client.post("/api/payments", content=exact, headers=AUTH)
    assert response.status_code == 201 and response.json()["account"]["balance"] == "1399999.90"
    too_fine = b'{"account_ref": "A-1", "amount": 0.125, "paid_at": "2026-11-22", "reference": "N-2"}'
    response = client.post("/api/payments", content=too_fine, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "amount", "message": "has more than 2 decimal places: 0.125"}]


def test_paying_in_full_marks_the_account_paid_and_cancels_pending_promises(client: TestClient) -> None:
    with factory_of(client).begin() as session:
        account = session.scalars(select(Account).where(Account.ref == "A-2")).one()
        session.add(
            Promise(
                account_id=account.id,
                amount=Decimal("100000"),
                promised_date=date(2026, 11, 20),
                created_at=datetime(2026, 11, 18, tzinfo=timezone.utc),
            )
        )
    response = client.post(
        "/api/payments", json=payment_body(account_ref="A-2", amount="750000", reference="FULL"), headers=AUTH
    )
    assert response.status_code == 201
    assert (response.json()["account"]["balance"], response.json()["account"]["status"]) == ("0.00", "paid")
    with factory_of(client)() as session:
        assert session.scalars(select(Account.status).where(Account.ref == "A-2")).one() == "paid"
        assert session.scalars(select(Promise.status)).one() == "cancelled"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (payment_body(amount="0"), "amount", "greater than 0"),
        (payment_body(amount="-10"), "amount", "greater than 0"),
        (payment_body(amount="1.999"), "amount", "more than 2 decimal places"),
        (payment_body(amount="lots"), "amount", "not a decimal amount"),
        (payment_body(amount=True), "amount", "not a boolean"),
        (payment_body(amount=None), "amount", "is required"),
        (payment_body(paid_at="2026-11-22T14:30:00"), "paid_at", "no UTC offset"),
        (payment_body(paid_at="2026-11-24"), "paid_at", "in the future"),
        (payment_body(paid_at="next week"), "paid_at", "not an ISO 8601"),
        (payment_body(currency="USD"), "currency", "is USD but account A-1 is in IDR"),
        (payment_body(reference="   "), "reference", "is required"),
        ({k: v for k, v in payment_body().items() if k != "reference"}, "reference", "Field required"),
        (payment_body(account_ref=17), "account_ref", "valid string"),
        (payment_body(paid_at=20261122), "paid_at", "valid string"),
        (payment_body(amout="5"), "amout", "Extra inputs are not permitted"),
    ],
)
def test_invalid_payments_are_refused_with_reasons_and_nothing_is_stored(
    client: TestClient, body: dict, field: str, reason: str
) -> None:
    before = database_state(client)
    response = client.post("/api/payments", json=body, headers=AUTH)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert reason in errors[0]["message"] and reason in response.json()["detail"]
    assert database_state(client) == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{oops", "not valid JSON"),
        (b"", "empty"),
        (b'{"amount": NaN}', "not valid JSON"),
        (b'["A-1", "500000"]', "JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(client: TestClient, content: bytes, reason: str) -> None:
    response = client.post("/api/payments", content=content, headers=AUTH | {"content-type": "application/json"})
    assert response.status_code == 400
    assert reason in response.json()["detail"]


def test_unknown_account_is_404(client: TestClient) -> None:
    before = database_state(client)
    response = client.post("/api/payments", json=payment_body(account_ref="NOPE"), headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "no account with ref 'NOPE'", "code": "unknown_account"}
    assert database_state(client) == before


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": "400000"}, "already recorded with amount 500000.00, not 400000.00"),
        ({"account_ref": "A-2"}, "already recorded for account A-1"),
    ],
)
def test_the_same_reference_for_another_payment_is_409(client: TestClient, changes: dict, reason: str) -> None:
    assert client.post("/api/payments", json=payment_body(), headers=AUTH).status_code == 201
    before = database_state(client)
    response = client.post("/api/payments", json=payment_body(**changes), headers=AUTH)
    assert response.status_code == 409
    assert reason in response.json()["detail"] and response.json()["code"] == "reference_conflict"
    assert database_state(client) == before


# ---------------------------------------------------------------------------------------------------
# POST /api/accounts


def test_bulk_upsert_creates_and_updates(client: TestClient) -> None:
    rows = [
        account_row("A-1", "+6281234567801", amount_due="1600000", segment="able_willing"),
        account_row("B-1", "081298765432", amount_due=250000.5, telegram_chat_id=555001),
    ]
    response = client.post("/api/accounts", json={"accounts": rows}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 1, "skipped": 0, "errors": []}
    with factory_of(client)() as session:
        accounts = {a.ref: a for a in session.scalars(select(Account))}
        assert (accounts["A-1"].amount_due, accounts["A-1"].segment) == (Decimal("1600000.00"), "able_willing")
        assert accounts["B-1"].amount_due == Decimal("250000.50")
        assert accounts["B-1"].debtor.phone == "+6281298765432"
        assert accounts["B-1"].debtor.telegram_chat_id == "555001"
        imports = session.scalars(select(AuditLog).where(AuditLog.action == "accounts.import").order_by(AuditLog.id))
        assert [entry.actor.startswith("api:") for entry in imports] == [False, True]  # the fixture's, then ours


def test_bulk_upsert_with_an_invalid_row_writes_nothing_and_lists_every_error(client: TestClient) -> None:
    before = database_state(client)
    rows = [
        account_row("A-1", "+6281234567801", amount_due="1"),  # valid on its own: must not be applied
        account_row("B-1", "12", timezone="Mars/Base"),
        "not an object",
        account_row("B-2", "081298765433", due_date="2026-13-01", colour="red"),
    ]
    response = client.post("/api/accounts", json={"accounts": rows}, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "3 invalid row(s); nothing was written"
    assert [(e["row"], e["index"], e["field"]) for e in body["errors"]] == [
        (2, 1, "phone"),
        (2, 1, "timezone"),
        (3, 2, "row"),
        (4, 3, "due_date"),
        (4, 3, "colour"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert database_state(client) == before


def test_bulk_upsert_skip_invalid_writes_the_valid_rows(client: TestClient) -> None:
    rows = [account_row("B-1", "081298765432"), account_row("B-2", "12"), 7]
    response = client.post("/api/accounts", json={"accounts": rows, "skip_invalid": True}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["skipped"]) == (1, 0, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "phone"), (3, "row")]
    with factory_of(client)() as session:
        assert sorted(session.scalars(select(Account.ref))) == ["A-1", "A-2", "B-1"]


def test_bulk_upsert_refuses_a_phone_of_another_debtor_and_writes_nothing(client: TestClient) -> None:
    before = database_state(client)
    rows = [
        account_row("B-1", "081298765432"),
        # A-1's phone for somebody else: it once renamed A-1's debtor and replaced their birth date.
        account_row("B-2", "+6281234567801", name="Someone Else", birth_date="1985-05-05"),
        account_row("A-2", "+6281234567802", birth_date="1985-05-05"),  # no customer_ref: cannot change it
    ]
    response = client.post("/api/accounts", json={"accounts": rows}, headers=AUTH)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "2 invalid row(s); nothing was written",
        "errors": [
            {
                "row": 2,
                "index": 1,
                "field": "phone",
                "message": "+6281234567801 already belongs to another debtor (account A-1)",
            },
            {
                "row": 3,
                "index": 2,
                "field": "birth_date",
                "message": "differs from the debtor of account A-2 on file; "
                "only a row with the debtor's customer_ref may change it",
            },
        ],
    }
    assert database_state(client) == before

    response = client.post("/api/accounts", json={"accounts": rows, "skip_invalid": True}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["skipped"]) == (1, 0, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "phone"), (3, "birth_date")]
    with factory_of(client)() as session:
        debtor = session.scalars(select(Account).where(Account.ref == "A-1")).one().debtor
        assert (debtor.name, debtor.birth_date) == ("Debtor A-1", date(1990, 1, 1))


def test_bulk_upsert_by_customer_ref_and_the_snapshot_lists_the_other_accounts(client: TestClient) -> None:
    rows = [account_row("A-3", "+6281234567801", name="Debtor A-1", amount_due="200", customer_ref="CUST-1")]
    response = client.post("/api/accounts", json={"accounts": rows}, headers=AUTH)
    assert response.json() == {"created": 1, "updated": 0, "skipped": 0, "errors": []}
    debtor = client.get("/api/accounts/A-1", headers=AUTH).json()["debtor"]
    assert debtor["customer_ref"] == "CUST-1"
    assert debtor["accounts"] == [{"ref": "A-3", "balance": "200.00", "status": "active", "days_past_due": 8}]
    assert client.get("/api/accounts/A-2", headers=AUTH).json()["debtor"]["accounts"] == []


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({}, 422, "'accounts' is required"),
        ({"accounts": {"account_ref": "A-1"}}, 422, "'accounts' is required"),
        ({"accounts": []}, 422, "at least one"),
        ({"accounts": [{}], "skip_invalid": "yes"}, 422, "'skip_invalid' must be true or false"),
        ({"accounts": [{}], "dry_run": True}, 422, "unknown field(s): dry_run"),
        ({"accounts": [{}] * 10_001}, 413, "at most 10000"),
        ([account_row("B-1", "081298765432")], 400, "JSON object"),
    ],
)
def test_bulk_upsert_body_problems(client: TestClient, body: Any, status: int, reason: str) -> None:
    before = database_state(client)
    response = client.post("/api/accounts", json=body, headers=AUTH)
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert database_state(client) == before


# ---------------------------------------------------------------------------------------------------
# GET /api/accounts/{ref}


def test_account_snapshot_is_the_cli_json(client: TestClient) -> None:
    client.post("/api/payments", json=payment_body(), headers=AUTH)
    response = client.get("/api/accounts/A-1", headers=AUTH)
    assert response.status_code == 200
    with factory_of(client)() as session:
        expected = account_snapshot(session, "A-1", now=FIXED_NOW)
    assert response.json() == expected
    assert response.json()["balance"] == "1000000.00" and len(response.json()["payments"]) == 1
    assert "birth_date" not in response.json()["debtor"]


def test_unknown_account_snapshot_is_404(client: TestClient) -> None:
    response = client.get("/api/accounts/NOPE", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["detail"] == "no account with ref 'NOPE'"


# ---------------------------------------------------------------------------------------------------
# OpenAPI


def test_openapi_describes_the_routes_and_the_key(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == schemes["ApiKey"] | {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["BearerKey"] == schemes["BearerKey"] | {"type": "http", "scheme": "bearer"}
    operations = {
        ("post", "/api/payments"): "PaymentResultOut",
        ("post", "/api/accounts"): "AccountImportOut",
        ("get", "/api/accounts/{ref}"): "AccountSnapshotOut",
    }
    for (method, path), model in operations.items():
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"ApiKey": []}, {"BearerKey": []}]
        ok = "201" if path == "/api/payments" else "200"
        assert operation["responses"][ok]["content"]["application/json"]["schema"]["$ref"].endswith(model)
        assert {"401", "503"} <= set(operation["responses"])
    payment_request = schema["paths"]["/api/payments"]["post"]["requestBody"]["content"]["application/json"]
    assert set(payment_request["schema"]["required"]) == {"account_ref", "amount", "paid_at", "reference"}
    accounts_request = schema["paths"]["/api/accounts"]["post"]["requestBody"]["content"]["application/json"]
    assert "account_ref" in accounts_request["schema"]["properties"]["accounts"]["items"]["required"]
    assert "customer_ref" in accounts_request["schema"]["properties"]["accounts"]["items"]["properties"]
    assert {"404", "409", "422"} <= set(schema["paths"]["/api/payments"]["post"]["responses"])
