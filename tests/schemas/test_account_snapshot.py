"""The account snapshot schema: the service's JSON passes through it unchanged, key for key and in the
same order, so ``tagih accounts show --json`` and ``GET /api/accounts/{ref}`` print the same thing."""

from __future__ import annotations

import json
from typing import Any

from bot.schemas.accounts import AccountSnapshotOut, DebtorOut

SNAPSHOT: dict[str, Any] = {
    "ref": "A-1",
    "currency": "IDR",
    "amount_due": "1500000.00",
    "fees": "0.00",
    "paid_total": "500000.00",
    "waived": "0.00",
    "balance": "1000000.00",
    "due_date": "2026-11-01",
    "status": "active",
    "days_past_due": 22,
    "dpd_bucket": "1-30",
    "segment": None,
    "virtual_account": "8808000001",
    "as_of": "2026-11-23T03:00:00+00:00",
    "debtor": {
        "customer_ref": "C-9",
        "name": "Rina Wati",
        "phone": "+6281298765432",
        "telegram_chat_id": None,
        "email": None,
        "language": "id",
        "timezone": "Asia/Jakarta",
        "accounts": [{"ref": "A-2", "balance": "0.00", "status": "paid", "days_past_due": 0}],
    },
    "promises": [
        {
            "id": 1,
            "kind": "promise",
            "amount": "500000.00",
            "promised_date": "2026-11-25",
            "status": "pending",
            "conversation_id": 3,
            "created_at": "2026-11-22T03:00:00+00:00",
        }
    ],
    "plans": [
        {
            "id": 2,
            "total": "1000000.00",
            "installment_count": 2,
            "status": "active",
            "conversation_id": None,
            "created_at": None,
            "installments": [{"seq": 1, "due_date": "2026-12-01", "amount": "500000.00", "status": "pending"}],
        }
    ],
    "payments": [
        {"id": 4, "amount": "500000.00", "paid_at": "2026-11-20T07:30:00+00:00", "reference": "BCA-1", "source": "api"}
    ],
    "claims": [
        {
            "id": 5,
            "amount": None,
            "paid_on": "2026-11-21",
            "reference": None,
            "status": "pending",
            "conversation_id": 3,
            "created_at": "2026-11-21T03:00:00+00:00",
        }
    ],
    "handoffs": [
        {
            "id": 6,
            "reason": "dispute",
            "note": None,
            "status": "open",
            "assigned_to": None,
            "conversation_id": 3,
            "created_at": "2026-11-22T03:00:00+00:00",
            "resolved_at": None,
        }
    ],
    "proposals": [
        {
            "id": 7,
            "kind": "plan",
            "amount": "1000000.00",
            "installment_count": 6,
            "first_date": "2026-12-05",
            "reason": "beyond the policy's months",
            "status": "pending",
            "handoff_id": 6,
            "created_at": "2026-11-22T03:00:00+00:00",
            "decided_at": None,
            "decided_by": None,
        }
    ],
    "opt_outs": [
        {
            "id": 8,
            "channel": "whatsapp",
            "address": "6281298765432",
            "kind": "reminders",
            "source": "debtor",
            "created_at": "2026-11-22T03:00:00+00:00",
            "revoked_at": None,
        }
    ],
    "identity": {
        "failed_checks_24h": 3,
        "addresses_24h": 2,
        "lock": {
            "id": 9,
            "locked_at": "2026-11-23T02:00:00+00:00",
            "locked_until": "2026-11-23T03:00:00+00:00",
            "failures": 3,
            "addresses": 2,
        },
        "pending_link_requests": [
            {"id": 10, "channel": "telegram", "how": "code", "created_at": "2026-11-22T03:00:00+00:00"}
        ],
    },
}


def _printed(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, ensure_ascii=False)


def test_every_part_of_the_snapshot_passes_through_unchanged_and_in_order():
    shown = AccountSnapshotOut.model_validate(SNAPSHOT).model_dump(mode="json")
    assert _printed(shown) == _printed(SNAPSHOT)


def test_keys_the_service_adds_later_pass_through():
    extended = {**SNAPSHOT, "debtor": {**SNAPSHOT["debtor"], "nickname": "Rin"}, "notes": ["called"]}
    shown = AccountSnapshotOut.model_validate(extended).model_dump(mode="json")
    assert shown["notes"] == ["called"] and shown["debtor"]["nickname"] == "Rin"
    assert _printed(shown) == _printed(extended)


def test_the_birth_date_is_not_part_of_the_shape():
    assert "birth_date" not in DebtorOut.model_fields
