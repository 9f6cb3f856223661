"""Application settings, read once from the environment (and ``.env``).

Built lazily through :func:`get_settings` so importing a module never reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "dev-secret", ""}


class Settings(BaseSettings):
    """Every knob of a deployment. Names match DESIGN.md's fixed interface."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field("development", alias="TAGIH_ENV")
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'var' / 'tagih.db'}", alias="TAGIH_DATABASE_URL")
    rasa_url: str = Field("http://127.0.0.1:5005", alias="TAGIH_RASA_URL")
    host: str = Field("127.0.0.1", alias="TAGIH_HOST")
    port: int = Field(8000, alias="TAGIH_PORT")
    rasa_port: int = Field(5005, alias="TAGIH_RASA_PORT")
    rasa_timeout_seconds: float = Field(30.0, alias="TAGIH_RASA_TIMEOUT")
    action_token: SecretStr | None = Field(None, alias="TAGIH_ACTION_TOKEN")
    rasa_bin: Path = Field(PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa", alias="TAGIH_RASA_BIN")
    models_dir: Path = Field(PROJECT_ROOT / "nlu" / "models", alias="TAGIH_MODELS_DIR")
    # Admin-editor training: DIETClassifier epochs for quick trial models (tests); unset keeps config.yml's.
    train_epochs: int | None = Field(None, ge=1, alias="TAGIH_TRAIN_EPOCHS")
    rasa_tracker_db: Path = Field(PROJECT_ROOT / "var" / "rasa-tracker.db", alias="TAGIH_RASA_TRACKER_DB")
    secret_key: SecretStr = Field(SecretStr("dev-secret"), alias="TAGIH_SECRET_KEY")
    # Keys for /api (comma-separated, so a new key can be rolled out before the old one is removed).
    # None configured means the API answers 503: it is never open by default.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list, alias="TAGIH_API_KEYS")
    # Console logins last this long (fixed from login, not extended by use).
    session_hours: int = Field(12, ge=1, le=24 * 30, alias="TAGIH_SESSION_HOURS")

    company_name: str = Field("Tagih Finance", alias="TAGIH_COMPANY_NAME")
    default_language: Literal["id", "en"] = Field("id", alias="TAGIH_DEFAULT_LANGUAGE")
    default_timezone: str = Field("Asia/Jakarta", alias="TAGIH_DEFAULT_TIMEZONE")

    # What the bot and agents may agree, the payment instructions, the contact-rules profile and caps
    # live in the editable collection policy (bot/data/policy.yml, /admin), not here.
    max_identity_attempts: int = Field(3, ge=1, alias="TAGIH_MAX_IDENTITY_ATTEMPTS")
    virtual_account_prefix: str = Field("88908", alias="TAGIH_VA_PREFIX")

    # Reminders (scheduler/): how often the leader works.
    scheduler_enabled: bool = Field(True, alias="TAGIH_SCHEDULER")
    plan_interval_minutes: float = Field(15.0, gt=0, alias="TAGIH_PLAN_INTERVAL_MINUTES")
    dispatch_interval_seconds: float = Field(30.0, gt=0, alias="TAGIH_DISPATCH_INTERVAL_SECONDS")
    nudge_batch: int = Field(200, ge=1, alias="TAGIH_NUDGE_BATCH")

    # Agent console: the acknowledgment of waiting debtors.
    handoff_ack_minutes: float = Field(10.0, gt=0, alias="TAGIH_HANDOFF_ACK_MINUTES")

    public_url: str | None = Field(None, alias="TAGIH_PUBLIC_URL")
    send_max_attempts: int = Field(5, ge=1, alias="TAGIH_SEND_MAX_ATTEMPTS")
    send_backoff_seconds: float = Field(1.0, ge=0, alias="TAGIH_SEND_BACKOFF_SECONDS")
    telegram_chat_per_second: float = Field(1.0, gt=0, alias="TELEGRAM_CHAT_PER_SECOND")
    telegram_global_per_second: float = Field(30.0, gt=0, alias="TELEGRAM_GLOBAL_PER_SECOND")
    telegram_link_ttl_hours: int = Field(72, ge=1, alias="TELEGRAM_LINK_TTL_HOURS")
    channel_workers: int = Field(8, ge=1, alias="TAGIH_CHANNEL_WORKERS")
    max_message_chars: int = Field(4000, alias="TAGIH_MAX_MESSAGE_CHARS")

    whatsapp_access_token: SecretStr | None = Field(None, alias="WHATSAPP_ACCESS_TOKEN")
    whatsapp_app_secret: SecretStr | None = Field(None, alias="WHATSAPP_APP_SECRET")
    whatsapp_verify_token: SecretStr | None = Field(None, alias="WHATSAPP_VERIFY_TOKEN")
    whatsapp_phone_number_id: str | None = Field(None, alias="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_api_base_url: str = Field("https://graph.facebook.com/v21.0", alias="WHATSAPP_API_BASE_URL")
    whatsapp_rate_per_second: float = Field(80.0, gt=0, alias="WHATSAPP_RATE_PER_SECOND")
    whatsapp_template_name: str = Field("tagih_follow_up", alias="WHATSAPP_TEMPLATE_NAME")
    whatsapp_template_language_id: str = Field("id", alias="WHATSAPP_TEMPLATE_LANGUAGE_ID")
    whatsapp_template_language_en: str = Field("en_US", alias="WHATSAPP_TEMPLATE_LANGUAGE_EN")
    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL")

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            value = [key.strip() for key in value.split(",") if key.strip()]
        if info.data.get("environment") == "production":
            for key in value or ():
                plain = key.get_secret_value() if isinstance(key, SecretStr) else key
                if plain in PLACEHOLDER_SECRETS:
                    raise ValueError("TAGIH_API_KEYS must not contain placeholder keys in production")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production" and (self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS):
            raise ValueError("TAGIH_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}/actions/webhook"


# Settings that moved into the collection policy (bot/data/policy.yml, edited in /admin).
MOVED_TO_POLICY = (
    "TAGIH_MAX_PROMISE_DAYS",
    "TAGIH_MAX_INSTALLMENTS",
    "TAGIH_MIN_INSTALLMENT",
    "TAGIH_MAX_FIRST_INSTALLMENT_DAYS",
    "TAGIH_PAYMENT_INSTRUCTIONS_ID",
    "TAGIH_PAYMENT_INSTRUCTIONS_EN",
    "TAGIH_CONTACT_PROFILE",
    "TAGIH_MAX_NUDGES_PER_DAY",
    "TAGIH_MAX_NUDGES_PER_WEEK",
    "TAGIH_AGENT_MAX_PROMISE_DAYS",
    "TAGIH_AGENT_MAX_INSTALLMENTS",
    "TAGIH_AGENT_MIN_INSTALLMENT",
)


def moved_settings(environ: Mapping[str, str]) -> list[str]:
    """Variables still set that are no longer read (their values belong in the policy document)."""
    return [name for name in MOVED_TO_POLICY if name in environ]


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
