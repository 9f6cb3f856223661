"""WhatsApp Cloud API channel: signed webhooks in, Graph API messages out."""

from channels.whatsapp._channel import WhatsAppChannel, WhatsAppConfig
from channels.whatsapp._parse import parse_payload
from channels.whatsapp._signature import signature, verify_signature

__all__ = ["WhatsAppChannel", "WhatsAppConfig", "parse_payload", "signature", "verify_signature"]
