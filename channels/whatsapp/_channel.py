"""WhatsApp Cloud API adapter over plain HTTP (httpx)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from channels.base import (
    OutboundMessage,
    OutsideWindowError,
    ParsedDelivery,
    PermanentSendError,
    RateLimitedError,
    RecipientOptedOutError,
    SendResult,
    TransientSendError,
    VerificationError,
)
from channels.whatsapp._parse import parse_payload
from channels.whatsapp._signature import verify_signature

RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
TRANSIENT_CODES = {1, 2, 131000, 131016}
OUTSIDE_WINDOW = 131047
STOPPED_MARKETING = 131050
MAX_BUTTONS, MAX_ROWS = 3, 10
MAX_INTERACTIVE_BODY = 1024


@dataclass(frozen=True)
class WhatsAppConfig:
    access_token: SecretStr
    app_secret: SecretStr
    verify_token: SecretStr
    phone_number_id: str
    api_base_url: str = "https://graph.facebook.com/v21.0"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> WhatsAppConfig | None:
        values = {
            "access_token": settings.whatsapp_access_token,
            "app_secret": settings.whatsapp_app_secret,
            "verify_token": settings.whatsapp_verify_token,
            "phone_number_id": settings.whatsapp_phone_number_id,
        }
        if any(v is None for v in values.values()):
            return None
        return cls(**values, api_base_url=settings.whatsapp_api_base_url)


def _numbered(text: str, titles: list[str]) -> str:
    options = "\n".join(f"{i}. {title}" for i, title in enumerate(titles, 1))
    return f"{text}\n\n{options}" if text else options


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(
        self, config: WhatsAppConfig, *, client: httpx.AsyncClient | None = None, list_button_label: str = "Pilih"
    ) -> None:
        self.config = config
        self._client = client or httpx.AsyncClient(timeout=config.timeout)
        self._list_label = list_button_label

    def verify_subscription(self, mode: str | None, token: str | None, challenge: str | None) -> str:
        expected = self.config.verify_token.get_secret_value()
        if mode != "subscribe" or not challenge:
            raise VerificationError("expected hub.mode=subscribe and a hub.challenge")
        if not hmac.compare_digest((token or "").encode(), expected.encode()):
            raise VerificationError("hub.verify_token does not match")
        return challenge

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        verify_signature(headers, body, self.config.app_secret.get_secret_value())

    def parse(self, body: bytes) -> ParsedDelivery:
        return parse_payload(body)

    def _body(self, message: OutboundMessage) -> dict[str, Any]:
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient_id.lstrip("+"),
        }
        if message.template is not None:
            template = message.template
            payload: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
            if template.parameters:
                payload["components"] = [
                    {"type": "body", "parameters": [{"type": "text", "text": p} for p in template.parameters]}
                ]
            return {**base, "type": "template", "template": payload}
        text = message.text or ""
        buttons = list(message.buttons)
        if not buttons:
            return {**base, "type": "text", "text": {"body": text, "preview_url": False}}
        if len(buttons) > MAX_ROWS or len(text) > MAX_INTERACTIVE_BODY:
            return {**base, "type": "text", "text": {"body": _numbered(text, [b.title for b in buttons])}}
        action: dict[str, Any]
        if len(buttons) <= MAX_BUTTONS:
            action = {
                "buttons": [{"type": "reply", "reply": {"id": b.payload[:256], "title": b.title[:20]}} for b in buttons]
            }
            interactive = {"type": "button", "body": {"text": text}, "action": action}
        else:
            rows = [{"id": b.payload[:200], "title": b.title[:24]} for b in buttons]
            action = {"button": self._list_label, "sections": [{"title": self._list_label, "rows": rows}]}
            interactive = {"type": "list", "body": {"text": text}, "action": action}
        return {**base, "type": "interactive", "interactive": interactive}

    async def send(self, message: OutboundMessage) -> SendResult:
        url = f"{self.config.api_base_url.rstrip('/')}/{self.config.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {self.config.access_token.get_secret_value()}"}
        try:
            response = await self._client.post(url, json=self._body(message), headers=headers)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"network error: {exc!r}", code="network", title=type(exc).__name__) from exc
        if response.status_code < 300:
            try:
                return SendResult(str(response.json()["messages"][0]["id"]))
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise TransientSendError("unexpected answer from the Graph API", code="bad_response") from exc
        raise self._error(response)

    @staticmethod
    def _error(response: httpx.Response) -> Exception:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code")
        details = (error.get("error_data") or {}).get("details")
        title = error.get("message") or details or response.reason_phrase
        code_text = str(code) if code is not None else str(response.status_code)
        message = f"WhatsApp answered {response.status_code}: {code_text} {title}"
        if response.status_code == 429 or code in RATE_LIMIT_CODES:
            retry_after = response.headers.get("Retry-After")
            return RateLimitedError(
                message, retry_after=float(retry_after) if retry_after else None, code=code_text, title=title
            )
        if response.status_code >= 500 or code in TRANSIENT_CODES:
            return TransientSendError(message, code=code_text, title=title)
        if code == OUTSIDE_WINDOW:
            return OutsideWindowError(message, code=code_text, title=title)
        if code == STOPPED_MARKETING:
            return RecipientOptedOutError(message, code=code_text, title=title)
        return PermanentSendError(message, code=code_text, title=title)

    async def aclose(self) -> None:
        await self._client.aclose()
