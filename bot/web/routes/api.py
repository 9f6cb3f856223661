"""Operations API for lenders' systems: record payments, upsert accounts, read one account.

Every route needs a key from ``TAGIH_API_KEYS``, sent as ``X-API-Key: <key>`` or
``Authorization: Bearer <key>``; with no keys configured the API answers 503 instead of being open.
The key is checked before the body is read, so an unauthenticated caller learns nothing, not even
whether its JSON parses. Each request is one transaction: when it is refused, nothing was written.

This module mounts the API's routes under ``/api``: payments (``api_payments``) and accounts
(``api_accounts``), with the key check and body reading they share in ``api_access`` and their JSON
shapes in ``bot.schemas``.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.routes import api_accounts, api_payments

router = APIRouter(
    prefix="/api",
    tags=["operations API"],
    responses={
        401: {"description": "Missing or wrong API key"},
        503: {"description": "API disabled: no TAGIH_API_KEYS configured"},
    },
)
router.include_router(api_payments.router)
router.include_router(api_accounts.router)
