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
PLACEHOLDER_SECRETS = {"changeme", "change-me", "change_me", "secret", "dev-secret", "password", "token", ""}
MIN_SECRET_CHARS = 24
SecretName = Literal["secret_key", "action_token", "rasa_token"]
SECRET_FIELDS: tuple[SecretName, ...] = ("secret_key", "action_token", "rasa_token")


class Settings(BaseSettings):
    """Every knob of a deployment. Names match DESIGN.md's fixed interface."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field("development", alias="TAGIH_ENV")
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'var' / 'tagih.db'}", alias="TAGIH_DATABASE_URL")
    rasa_url: str = Field("http://127.0.0.1:5005", alias="TAGIH_RASA_URL")
    host: str = Field("127.0.0.1", alias="TAGIH_HOST")
    # Rasa listens on loopback whatever TAGIH_HOST says; only an explicit TAGIH_RASA_HOST exposes it.
    rasa_host: str = Field("127.0.0.1", alias="TAGIH_RASA_HOST")
    port: int = Field(8000, alias="TAGIH_PORT")
    rasa_port: int = Field(5005, alias="TAGIH_RASA_PORT")
    rasa_timeout_seconds: float = Field(30.0, alias="TAGIH_RASA_TIMEOUT")
    # Secrets: none has a fixed default. Production must set them; development and test generate
    # them once into ``secrets_file`` (mode 0600) through with_generated_secrets().
    action_token: SecretStr | None = Field(None, alias="TAGIH_ACTION_TOKEN")
    rasa_token: SecretStr | None = Field(None, alias="TAGIH_RASA_TOKEN")
    secret_key: SecretStr | None = Field(None, alias="TAGIH_SECRET_KEY")
    secrets_file: Path = Field(PROJECT_ROOT / "var" / "secrets.env", alias="TAGIH_SECRETS_FILE")
    rasa_bin: Path = Field(PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa", alias="TAGIH_RASA_BIN")
    models_dir: Path = Field(PROJECT_ROOT / "nlu" / "models", alias="TAGIH_MODELS_DIR")
    # Admin-editor training: DIETClassifier epochs for quick trial models (tests); unset keeps config.yml's.
    train_epochs: int | None = Field(None, ge=1, alias="TAGIH_TRAIN_EPOCHS")
    rasa_tracker_db: Path = Field(PROJECT_ROOT / "var" / "rasa-tracker.db", alias="TAGIH_RASA_TRACKER_DB")
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
    # Identity checks across conversations (docs/security.md): wrong answers per account reference
    # lock it for date-of-birth checks; per client address they stop the address; after the free
    # ones every further wrong answer doubles the wait before the next is even looked at.
    identity_account_failures: int = Field(5, ge=1, alias="TAGIH_IDENTITY_ACCOUNT_FAILURES")
    identity_address_failures: int = Field(10, ge=1, alias="TAGIH_IDENTITY_ADDRESS_FAILURES")
    identity_free_failures: int = Field(2, ge=0, alias="TAGIH_IDENTITY_FREE_FAILURES")
    identity_delay_seconds: float = Field(30.0, ge=0, alias="TAGIH_IDENTITY_DELAY_SECONDS")
    identity_lock_hours: float = Field(24.0, gt=0, alias="TAGIH_IDENTITY_LOCK_HOURS")
    # Web chat: after account number and date of birth, a one-time code sent to the WhatsApp number or
    # Telegram chat on file. auto = when the debtor has one we can reach; required = never without
    # one (such debtors are offered an agent); off = date of birth alone.
    identity_second_factor: Literal["auto", "required", "off"] = Field("auto", alias="TAGIH_IDENTITY_SECOND_FACTOR")
    identity_code_minutes: float = Field(10.0, gt=0, alias="TAGIH_IDENTITY_CODE_MINUTES")
    identity_code_attempts: int = Field(3, ge=1, alias="TAGIH_IDENTITY_CODE_ATTEMPTS")
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
    # An approved authentication template whose body takes the one-time identity code.
    whatsapp_code_template_name: str = Field("tagih_verification_code", alias="WHATSAPP_CODE_TEMPLATE_NAME")
    whatsapp_template_language_id: str = Field("id", alias="WHATSAPP_TEMPLATE_LANGUAGE_ID")
    whatsapp_template_language_en: str = Field("en_US", alias="WHATSAPP_TEMPLATE_LANGUAGE_EN")
    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL")

    # Hostile input (bot/web/limits.py, docs/channels.md): request bodies are capped before they are
    # read (413), with the larger cap for admin flow files and bulk account upserts; web chat messages
    # are limited per sender id and per client address (429 with Retry-After; bursts of half a
    # minute's allowance; 0 switches a limit off, e.g. for benchmarks).
    max_body_bytes: int = Field(1 << 20, ge=1024, alias="TAGIH_MAX_BODY_BYTES")
    max_upload_bytes: int = Field(16 << 20, ge=1024, alias="TAGIH_MAX_UPLOAD_BYTES")
    webchat_sender_per_minute: float = Field(20.0, ge=0, alias="TAGIH_WEBCHAT_SENDER_PER_MINUTE")
    webchat_address_per_minute: float = Field(60.0, ge=0, alias="TAGIH_WEBCHAT_ADDRESS_PER_MINUTE")
    # Web chat sessions (bot/web/chat_session.py): how long a browser keeps its conversation (the
    # signed cookie's lifetime); "End chat" on the page forgets it sooner.
    webchat_session_hours: int = Field(24, ge=1, le=24 * 30, alias="TAGIH_WEBCHAT_SESSION_HOURS")

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
    def _no_placeholder_secrets(self) -> Settings:
        for name, value in self._secrets().items():
            alias = type(self).model_fields[name].alias
            if value is None:
                if self.environment == "production":
                    raise ValueError(f"{alias} must be set in production (a long random value)")
                continue
            plain = value.get_secret_value()
            if plain.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(f"{alias} is a placeholder; set a long random value")
            if self.environment == "production" and len(plain) < MIN_SECRET_CHARS:
                raise ValueError(f"{alias} must have at least {MIN_SECRET_CHARS} characters in production")
        return self

    def _secrets(self) -> dict[str, SecretStr | None]:
        return {name: getattr(self, name) for name in SECRET_FIELDS}

    def with_generated_secrets(self) -> Settings:
        """These settings with every unset secret filled from ``secrets_file``, generated there on
        first use (development and test only: production sets each one explicitly)."""
        from bot.local_secrets import load_or_create

        fields = type(self).model_fields
        missing = {fields[name].alias: name for name, value in self._secrets().items() if value is None}
        if not missing:
            return self
        values = load_or_create(self.secrets_file, [alias for alias in missing if alias])
        return self.model_copy(update={missing[alias]: SecretStr(value) for alias, value in values.items()})

    def secret(self, name: SecretName) -> str:
        """A secret's value; a clear error when it was never set nor generated."""
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(
                f"{type(self).model_fields[name].alias} is not set (tagih generates it into {self.secrets_file} "
                "outside production; set it in the environment in production)"
            )
        return value.get_secret_value()

    @property
    def action_endpoint_url(self) -> str:
        """Where Rasa calls the app; loopback when the app listens on every interface."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/actions/webhook"


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
    return Settings().with_generated_secrets()  # type: ignore[call-arg]
