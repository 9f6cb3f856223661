"""The only way into the dialogue on the Rasa port: Rasa's REST contract behind a shared token.

Rasa's own ``rest`` channel answers anyone who can reach the port, with any ``sender`` (including the
ids the app gives verified WhatsApp and Telegram conversations), so it is not enabled. This channel
is the same contract at ``/webhooks/tagih/webhook`` and refuses every request that does not carry
``Authorization: Bearer <TAGIH_RASA_TOKEN>`` (compared in constant time). The Rasa HTTP API itself
(trackers, /model/parse, /status) is protected by ``rasa run --auth-token`` with the same secret.
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class TokenRestInput(RestInput):
    """Rasa's REST channel that only the Tagih app can call."""

    @classmethod
    def name(cls) -> Text:
        return "tagih"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        token = str((credentials or {}).get("token") or "").strip()
        if not token:
            raise ValueError("the tagih channel needs a token: set TAGIH_RASA_TOKEN")
        return cls(token)

    def __init__(self, token: Text) -> None:
        self._token = token.encode()

    def _authorised(self, request: Request) -> bool:
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_token(request: Request) -> Optional[HTTPResponse]:
            if self._authorised(request):
                return None
            return response.json({"status": "failure", "reason": "missing or wrong token"}, status=401)

        return blueprint
