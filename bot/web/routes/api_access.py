"""Who may call the operations API and how it reads a request: the API key check (``X-API-Key`` or
``Authorization: Bearer``, compared in constant time, 503 while no keys are configured), the JSON body
read only after that check, and the one shape every refusal answers with."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from bot.web.deps import SettingsDep
from channels.base import PayloadError, load_json

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="One of the keys in TAGIH_API_KEYS.",
    auto_error=False,
)
_bearer = HTTPBearer(
    scheme_name="BearerKey",
    description="The same API key, as `Authorization: Bearer <key>`.",
    auto_error=False,
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tagih-api"'}


def _actor(key: str) -> str:
    """Who the audit log says acted: a fingerprint of the key, never the key itself."""
    return "api:" + hashlib.sha256(key.encode()).hexdigest()[:12]


async def require_api_key(
    settings: SettingsDep,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str:
    """The caller's audit actor; 503 while no keys are configured, 401 for a missing or wrong key."""
    configured = [key.get_secret_value().encode() for key in settings.api_keys]
    if not configured:
        raise HTTPException(503, "API disabled: set TAGIH_API_KEYS")
    presented = api_key if api_key is not None else (bearer.credentials if bearer is not None else None)
    if not presented:
        raise HTTPException(
            401, "missing API key: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'", headers=_CHALLENGE
        )
    given = presented.encode()
    matched = False
    for key in configured:  # no early exit: the time taken does not say which key nearly matched
        matched |= hmac.compare_digest(given, key)
    if not matched:
        raise HTTPException(401, "invalid API key", headers=_CHALLENGE)
    return _actor(presented)


ApiActorDep = Annotated[str, Depends(require_api_key)]


async def read_json(request: Request, _: ApiActorDep) -> Any:
    """The body as JSON, numbers with a fraction as exact Decimals; refused when nested too deeply
    or holding text that cannot be stored (lone surrogates, NUL). Depends on the key check, so it
    can never run first."""
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(400, "request body is empty: send a JSON object")
    try:
        return load_json(raw, parse_float=Decimal)
    except PayloadError as exc:
        raise HTTPException(400, f"invalid request body: {exc}") from exc


JsonBodyDep = Annotated[Any, Depends(read_json)]


def json_body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI request body for routes that read the body themselves (after the key check)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def error_response(
    status: int, detail: str, *, code: str | None = None, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if code is not None:
        body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors()
    ]
