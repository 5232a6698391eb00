"""The composition root: settings → engine → unit of work → vault-backed services.

The admin API side never receives `notify_key`; only `bot_services` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from cases.accounts import AccountService
from cases.audit import AuditService
from cases.deadlines import Deadlines
from cases.intake import BlurPolicy, IntakeService
from cases.membership import MembershipService
from cases.notifications import NotificationService
from cases.officers import AuthService
from cases.runtime import KdfPool
from cases.setup import SetupService
from cases.triage_rules import TriageEngine, load_rules
from cases.workflow import WorkflowService
from storage.db import make_engine, make_sessionmaker
from storage.repositories import SqlUnitOfWork


class Storage:
    """One engine and the unit-of-work factory over it."""

    def __init__(self, settings: Settings) -> None:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = make_engine(settings.effective_database_url)
        self._sessionmaker = make_sessionmaker(self.engine)
        self.kdf = KdfPool(settings.kdf_concurrency)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessionmaker)

    async def close(self) -> None:
        await self.engine.dispose()


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


def setup_service(storage: Storage, settings: Settings) -> SetupService:
    return SetupService(storage.uow, storage.kdf, settings.kdf_cost)


def bot_services(storage: Storage, settings: Settings) -> BotServices:
    """What the bot process needs: public keys and the notify key, no private key."""
    notify_key = settings.notify_key_bytes()
    return BotServices(
        intake=IntakeService(
            storage.uow,
            storage.kdf,
            notify_key=notify_key,
            blur=BlurPolicy(settings.blur_max),
            triage=TriageEngine(load_rules(settings.triage_rules_path or None)),
        ),
        notifications=NotificationService(storage.uow, notify_key),
    )


def api_services(storage: Storage, settings: Settings) -> ApiServices:
    """What the admin API needs: officer login and casework. No notify key."""
    setup = setup_service(storage, settings)
    return ApiServices(
        auth=AuthService(storage.uow, storage.kdf, settings.kdf_cost),
        casework=WorkflowService(storage.uow, deadlines=Deadlines(settings.deadline_policy)),
        accounts=AccountService(storage.uow, storage.kdf, settings.kdf_cost, setup),
        membership=MembershipService(storage.uow),
        audit=AuditService(storage.uow),
    )
