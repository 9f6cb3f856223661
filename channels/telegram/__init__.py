"""Telegram channel built on python-telegram-bot: webhook (secret token) or long polling."""

from channels.telegram._channel import SECRET_HEADER, TelegramChannel, TelegramConfig

__all__ = ["SECRET_HEADER", "TelegramChannel", "TelegramConfig"]
