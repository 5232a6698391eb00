"""The composition root: settings → engine → unit of work → vault-backed services.

The admin API side never receives `notify_key`; only `bot_services` reads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.notifier import NotifierLimits
from bot.settings import ConfigError, ServiceUnavailable, Settings
from cases.accounts import AccountService
from cases.alert_delivery import AlertDeliveryService
from cases.alert_links import AlertLinkService, LinkLimits
from cases.alerts import AlertService, AlertSettings
from cases.audit import AuditService
from cases.deadlines import Deadlines
from cases.intake import BlurPolicy, IntakeService
from cases.membership import MembershipService
from cases.notification_stats import DeliveryStatsService
from cases.notifications import NotificationService
from cases.officers import AuthService
from cases.retention import RetentionPolicy, RetentionService
from cases.runtime import KdfPool
from cases.setup import SetupService
from cases.stats import StatsService
from cases.transfers import TransferService
from cases.triage_rules import TriageEngine, load_rules
from cases.workflow import WorkflowService
from storage.db import (
    DatabaseUnavailable,
    check_connection,
    is_initialised,
    make_engine,
    make_sessionmaker,
    migrate,
    sqlite_file,
)
from storage.repos_notify import SqlNotifyUnitOfWork


class Storage:
    """One engine and the unit-of-work factory over it."""

    def __init__(self, settings: Settings) -> None:
        self.engine: AsyncEngine = make_engine(settings.effective_database_url)
        self._sessionmaker = make_sessionmaker(self.engine)
        # Separate Argon2 queues: a burst of (anonymous) officer logins on the API must never
        # delay a reporter's receipt derivation in the bot, even under `speakup run`.
        self.reporter_kdf = KdfPool(settings.kdf_concurrency)
        self.officer_kdf = KdfPool(settings.kdf_concurrency)
        self._queue_pin = settings.queue_key_pin or None

    def uow(self) -> SqlNotifyUnitOfWork:
        return SqlNotifyUnitOfWork(self._sessionmaker, self._queue_pin)

    async def close(self) -> None:
        await self.engine.dispose()


class NotInitialised(ConfigError):
    """The database was never set up by `speakup init`."""


async def open_storage(settings: Settings, *, initialising: bool = False) -> Storage:
    """The one way a process opens the database: connect, check it was initialised (unless
    `initialising`, for `speakup init`), migrate. A wrong URL, a server that does not answer
    or a database never initialised is a ConfigError naming the setting; nothing is created
    anywhere then, so a typo in SPEAKUP_DATA_DIR cannot leave an empty database behind."""
    url = settings.effective_database_url
    where = "SPEAKUP_DATABASE_URL" if settings.database_url else "SPEAKUP_DATA_DIR"
    path = sqlite_file(url)
    if path is not None and not path.exists():
        if not initialising:
            raise NotInitialised(
                f"no SpeakUp database at {path} ({where}): run `speakup init` first, "
                f"or set {where} to where it is"
            )
        if not settings.database_url:
            # The embedded database holds officers' salts and verifiers: owner-only.
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    storage = Storage(settings)
    try:
        try:
            await check_connection(storage.engine)
        except DatabaseUnavailable as exc:
            raise ServiceUnavailable(f"{where}: {exc}") from exc
        if not initialising and not await is_initialised(storage.engine):
            raise NotInitialised(
                f"the database ({where}) is not initialised: run `speakup init` first"
            )
        await migrate(storage.engine)
    except BaseException:
        await storage.close()
        raise
    return storage


@dataclass(frozen=True)
class BotServices:
    intake: IntakeService
    notifications: NotificationService


@dataclass(frozen=True)
class ApiServices:
    auth: AuthService
    casework: WorkflowService
    accounts: AccountService
    membership: MembershipService
    audit: AuditService
    delivery_stats: DeliveryStatsService
    transfers: TransferService
    stats: StatsService
    alert_links: AlertLinkService


def setup_service(storage: Storage, settings: Settings) -> SetupService:
    return SetupService(storage.uow, storage.officer_kdf, settings.kdf_cost)


def bot_services(storage: Storage, settings: Settings) -> BotServices:
    """What the bot process needs: public keys and the notify key, no private key."""
    notify_key = settings.notify_key_bytes()
    return BotServices(
        intake=IntakeService(
            storage.uow,
            storage.reporter_kdf,
            notify_key=notify_key,
            blur=BlurPolicy(settings.blur_max),
            triage=TriageEngine(load_rules(settings.triage_rules_path or None)),
            deadlines=Deadlines(settings.deadline_policy),
        ),
        notifications=NotificationService(storage.uow, notify_key, lease=settings.notifier_lease),
    )


def notifier_limits(settings: Settings) -> NotifierLimits:
    """The notifier worker's pacing, retry and batching knobs from settings."""
    return NotifierLimits(
        per_second=settings.notifier_per_second,
        chat_interval=settings.notifier_chat_interval_seconds,
        max_attempts=settings.notifier_max_attempts,
        backoff_base=settings.notifier_backoff_base_seconds,
        backoff_cap=settings.notifier_backoff_cap_seconds,
        batch=settings.notifier_batch,
        poll_seconds=settings.notifier_poll_seconds,
    )


def api_services(storage: Storage, settings: Settings) -> ApiServices:
    """What the admin API needs: officer login and casework. No notify key."""
    setup = setup_service(storage, settings)
    return ApiServices(
        auth=AuthService(
            storage.uow,
            storage.officer_kdf,
            settings.kdf_cost,
            max_waiting_logins=settings.login_max_waiting,
        ),
        casework=WorkflowService(storage.uow, deadlines=Deadlines(settings.deadline_policy)),
        accounts=AccountService(storage.uow, storage.officer_kdf, settings.kdf_cost, setup),
        membership=MembershipService(storage.uow),
        audit=AuditService(storage.uow),
        delivery_stats=DeliveryStatsService(storage.uow),
        transfers=TransferService(storage.uow, deadlines=Deadlines(settings.deadline_policy)),
        stats=StatsService(
            storage.uow, k=settings.stats_min_cell, timezone=settings.alert_timezone
        ),
        alert_links=alert_link_service(storage, settings),
    )


def retention_service(storage: Storage, settings: Settings) -> RetentionService:
    """The purge job with the configured periods; it needs no key at all."""
    policy = RetentionPolicy(
        short=dt.timedelta(days=settings.retention_short_days),
        long=dt.timedelta(days=settings.retention_long_days),
        notify_link=dt.timedelta(days=settings.retention_notify_link_days),
        alerts=dt.timedelta(days=settings.retention_alert_days),
    )
    return RetentionService(storage.uow, policy)


def alert_link_service(storage: Storage, settings: Settings) -> AlertLinkService:
    """Link codes and chats for officer alerts (both processes need it: API issues, bot links)."""
    return AlertLinkService(
        storage.uow,
        ttl=dt.timedelta(minutes=settings.alert_link_code_minutes),
        limits=LinkLimits(settings.alert_link_wrong_per_chat_per_hour),
    )


def alert_service(storage: Storage, settings: Settings) -> AlertService:
    """Who is alerted about what; runs in the bot process with the notifier."""
    return AlertService(
        storage.uow,
        settings=AlertSettings(
            digest_hour=settings.alert_digest_hour,
            timezone=settings.alert_timezone,
            digest_working_days=settings.alert_digest_working_days,
        ),
        deadlines=Deadlines(settings.deadline_policy),
    )


def alert_delivery_service(storage: Storage, settings: Settings) -> AlertDeliveryService:
    return AlertDeliveryService(storage.uow, lease=settings.notifier_lease)
