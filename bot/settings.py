"""Settings, read from `SPEAKUP_*` environment variables or a `.env` file.

Nothing here is built at import time: the CLI constructs `Settings()` and passes it down.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases.deadlines import DeadlinePolicy
from cases.working_days import HolidayOverrides
from storage.crypto.primitives import KdfCost
from storage.db import normalise_url

PLACEHOLDER = "change-me"


class ConfigError(Exception):
    """A setting is missing, malformed or refused; the message names it and says what to do."""

    # sysexits.h EX_CONFIG: a supervisor can be told not to restart into the same mistake.
    exit_code = 78


class ServiceUnavailable(ConfigError):
    """A service a setting points at (the database, Telegram) does not answer; may work later."""

    exit_code = 69  # sysexits.h EX_UNAVAILABLE


def load_settings(**overrides: Any) -> Settings:
    """`Settings` from the environment, or a ConfigError naming each wrong setting on one line.

    Pydantic's own report spans lines and may echo the value (a secret, a password in a URL);
    this says which setting and why, never what it holds."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            reason = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                name = "SPEAKUP_" + str(error["loc"][0]).upper()
                problems.append(f"{name}: {reason}" if name not in reason else reason)
            else:  # a check across settings; its message names them
                problems.append(reason)
        raise ConfigError("; ".join(problems)) from None


def _secret_key(name: str, raw: str, environment: str) -> bytes:
    """A base64 key of 32 bytes from setting `name`, or a ConfigError saying how to make one."""
    make = "generate one with `speakup keygen`"
    if not raw:
        raise ConfigError(f"SPEAKUP_{name} is not set: {make}")
    if raw == PLACEHOLDER and environment == "production":
        raise ConfigError(f'SPEAKUP_{name} is still the placeholder "{PLACEHOLDER}": {make}')
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"SPEAKUP_{name} must be 32 random bytes in base64: {make}")
    return key


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_SECRET_MIN = 32
_BOT_TOKEN = re.compile(r"[0-9]+:[^\s]+")  # what aiogram accepts: the bot id, a colon, the key


class Settings(BaseSettings):
    """Every knob of the product. Secrets are `SecretStr` so they never print by accident."""

    model_config = SettingsConfigDict(env_prefix="SPEAKUP_", env_file=".env", extra="ignore")

    environment: str = "production"  # production | demo | test
    data_dir: Path = Path("./speakup-data")
    database_url: str = ""

    bot_token: SecretStr = SecretStr("")
    telegram_api_base: str = "https://api.telegram.org"
    # base64 of 32 random bytes; only the bot process needs it (DESIGN §3 notify link).
    notify_key: SecretStr = SecretStr("")
    redis_url: str = ""
    # Printed by `speakup init`; the queue public keys in the database must match it.
    queue_key_pin: str = ""

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Argon2id cost for officer passwords and (fixed at init) receipts.
    kdf_memory_kib: int = 65536
    kdf_iterations: int = 3
    kdf_lanes: int = 1  # see storage.crypto.primitives.argon2id
    # Argon2 runs at most this many at a time in each of two pools: the bot's (receipts) and the
    # admin API's (officer passwords), so logins never queue in front of a reporter.
    kdf_concurrency: int = 2
    # Logins waiting for Argon2 beyond those running; one more is answered 429 at once.
    login_max_waiting: int = 16

    # P8 timing blur: new reports reach officers after 0..blur_max_minutes.
    blur_max_minutes: int = 20

    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    # How often the admin API wipes expired sessions' keys without waiting for a request.
    session_sweep_seconds: float = 60.0

    notifier_poll_seconds: float = 1.0
    notifier_max_attempts: int = 8
    # Telegram's limits (DESIGN §7): messages per second overall and seconds between two
    # messages to one chat. With several notifier workers, divide the rate between them.
    notifier_per_second: float = 30.0
    notifier_chat_interval_seconds: float = 1.0
    # Capped exponential backoff after 5xx / network errors: base·2^(n-1), at most the cap.
    notifier_backoff_base_seconds: float = 1.0
    notifier_backoff_cap_seconds: float = 300.0
    # How long a claimed row stays reserved to one worker.
    notifier_lease_seconds: int = 300
    notifier_batch: int = 50

    # Retention (DESIGN §4), in days after closing; the job runs every retention_interval_hours.
    retention_short_days: int = 60  # not accepted / unfounded
    retention_long_days: int = 3 * 365  # every other case
    retention_notify_link_days: int = 30
    retention_interval_hours: float = 24.0

    # Deadlines (DESIGN §4); working days follow China's holiday calendar.
    deadline_triage_working_days: int = 5
    deadline_acceptance_notice_working_days: int = 15
    deadline_feedback_months: int = 3
    deadline_handling_days: int = 60
    deadline_extension_days: int = 30
    deadline_look_back_days: int = 30
    deadline_transfer_working_days: int = 5
    # How far ahead officers may set a rectification due date.
    deadline_max_due_days: int = 2 * 365
    # A TOML file of holidays and make-up working days for years the chinesecalendar package
    # does not cover yet, copied from the State Council's notice (format: cases/working_days.py).
    holidays_path: str = ""

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, url: str) -> str:
        # postgresql:// and sqlite:// get the async drivers installed with the product.
        return normalise_url(url) if url else url

    def check_bot_secrets(self) -> None:
        """What the bot process needs, checked before it starts: the token, the notify key
        and, when set, the draft key. Outside demo and test a placeholder is refused."""
        token = self.bot_token.get_secret_value()
        if not token:
            raise ConfigError("SPEAKUP_BOT_TOKEN is not set: put the token @BotFather gave you")
        if token == PLACEHOLDER and self.environment == "production":
            raise ConfigError(
                f'SPEAKUP_BOT_TOKEN is still the placeholder "{PLACEHOLDER}": '
                "put the token @BotFather gave you"
            )
        if not _BOT_TOKEN.fullmatch(token):
            raise ConfigError(
                "SPEAKUP_BOT_TOKEN is not a bot token (digits, a colon, then the key): copy it "
                "again from @BotFather"
            )
        self.notify_key_bytes()
        self.draft_key_bytes()

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an embedded SQLite file in the data directory."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'speakup.db'}"

    @property
    def kdf_cost(self) -> KdfCost:
        return KdfCost(self.kdf_memory_kib, self.kdf_iterations, self.kdf_lanes)

    @property
    def session_idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.session_idle_minutes)

    @property
    def session_absolute(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_absolute_hours)

    @property
    def session_sweep(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.session_sweep_seconds)

    @property
    def blur_max(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.blur_max_minutes)

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(
            triage_working_days=self.deadline_triage_working_days,
            acceptance_notice_working_days=self.deadline_acceptance_notice_working_days,
            feedback_months=self.deadline_feedback_months,
            handling_days=self.deadline_handling_days,
            extension_days=self.deadline_extension_days,
            look_back_days=self.deadline_look_back_days,
            transfer_working_days=self.deadline_transfer_working_days,
            max_due_days=self.deadline_max_due_days,
            holidays=HolidayOverrides.load(self.holidays_path) if self.holidays_path else None,
        )

    @property
    def notifier_lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.notifier_lease_seconds)

    def notify_key_bytes(self) -> bytes:
        """The decoded notify key; a ConfigError if it is missing, a placeholder or malformed."""
        return _secret_key("NOTIFY_KEY", self.notify_key.get_secret_value(), self.environment)

    # ------------------------------------------------------------ webhook (DESIGN §8, §9)
    # With a public URL the bot process serves Telegram's webhook instead of polling; several
    # bot processes may then sit behind one load balancer (share SPEAKUP_REDIS_URL and
    # SPEAKUP_DRAFT_KEY). Telegram wants HTTPS: terminate TLS in the proxy in front.
    webhook_url: str = ""
    # The route this process serves; empty: the URL's path (set it when the proxy rewrites).
    webhook_path: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -
    # (`openssl rand -hex 32`). Never part of the URL: paths end up in access logs.
    webhook_secret: SecretStr = SecretStr("")
    webhook_max_connections: int = 40  # Telegram's parallel deliveries, 1-100
    # Updates accepted but not yet processed; above it Telegram is told to retry later.
    webhook_max_in_flight: int = 200
    # On shutdown, how long updates already accepted may take to finish.
    webhook_drain_seconds: float = 10.0

    @model_validator(mode="after")
    def _webhook_is_safe(self) -> Settings:
        if not self.webhook_url:
            return self
        url = urlsplit(self.webhook_url)
        if url.query or url.fragment or url.username or url.password or not url.hostname:
            raise ValueError("SPEAKUP_WEBHOOK_URL must be scheme://host[:port]/path, nothing else")
        if not self.webhook_route.startswith("/"):
            raise ValueError("SPEAKUP_WEBHOOK_PATH must start with /")
        secret = self.webhook_secret.get_secret_value()
        if secret and not _WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError("SPEAKUP_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        token = self.bot_token.get_secret_value()
        for secret_value in (secret, token):
            if secret_value and secret_value in self.webhook_url + self.webhook_route:
                raise ValueError("the webhook URL and path must not contain a secret")
        if self.environment in ("demo", "test"):
            return self  # loopback; a missing secret gets a random one per process
        if url.scheme != "https":
            raise ValueError("SPEAKUP_WEBHOOK_URL must be https:// (Telegram requires it)")
        if not secret or secret == PLACEHOLDER or len(secret) < _WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"SPEAKUP_WEBHOOK_SECRET must be set to at least {_WEBHOOK_SECRET_MIN} random "
                "characters when SPEAKUP_WEBHOOK_URL is set (`openssl rand -hex 32`)"
            )
        return self

    @property
    def webhook_route(self) -> str:
        """The path this process serves the webhook on."""
        return self.webhook_path or urlsplit(self.webhook_url).path or "/"

    # ------------------------------------------------------------ reporter conversation
    # Departments offered in the report (JSON list in the environment); "prefer not to say"
    # is always offered first and needs no entry here.
    departments: list[str] = []
    # base64 of 32 random bytes sealing conversation drafts (P9). Empty: a fresh key per
    # process, so drafts do not survive a restart; set it when drafts live in Redis.
    draft_key: SecretStr = SecretStr("")
    draft_ttl_minutes: int = 120
    redis_key_prefix: str = "speakup"
    attachment_max_mb: int = 20
    attachments_per_report: int = 10
    # All attachments of one report together (each file is also capped by attachment_max_mb).
    attachments_total_mb: int = 50
    # Files cleaned at the same time (each may be a 50-megapixel photo held in memory).
    cleaning_concurrency: int = Field(default=2, ge=1)
    reports_per_chat_per_day: int = 5
    wrong_receipts_per_chat_per_hour: int = 5
    receipt_checks_per_minute: int = 60
    # Replies and notification changes from one chat in an hour (each runs Argon2; they also
    # count against receipt_checks_per_minute), and replies one case takes in a UTC day.
    followups_per_chat_per_hour: int = Field(default=20, ge=1)
    replies_per_case_per_day: int = Field(default=30, ge=1)
    # A triage rules file replacing the packaged one (cases/data/triage_rules.toml).
    triage_rules_path: str = ""

    @property
    def draft_ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.draft_ttl_minutes)

    def draft_key_bytes(self) -> bytes | None:
        """The decoded draft key, or None when drafts use a per-process key."""
        raw = self.draft_key.get_secret_value()
        return _secret_key("DRAFT_KEY", raw, self.environment) if raw else None

    # ------------------------------------------------------------ overseer statistics
    # P10: statistics hide every cell under this many reports (and cells that would reveal it).
    stats_min_cell: int = 5
    # ------------------------------------------------------------ officer alerts
    # One-time `/link` codes from the admin API: minutes to live, wrong tries per chat per hour.
    alert_link_code_minutes: int = 10
    alert_link_wrong_per_chat_per_hour: int = 5
    # The deadline digest goes out once a day from this local hour on (alert_timezone).
    alert_digest_hour: int = 8
    # Also the zone whose calendar month closes the overseer's statistics snapshot.
    alert_timezone: str = "Asia/Shanghai"
    alert_digest_working_days: int = 2
    # How often the bot looks for urgent, newly visible and due cases to alert about.
    alert_scan_seconds: float = 2.0
    # Settled officer alerts (they name case references) are deleted this many days later.
    retention_alert_days: int = 30
