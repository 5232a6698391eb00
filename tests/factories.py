"""Builders for tests: a migrated, initialised site with officers, at a low KDF cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyotp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import ApiServices, open_storage, setup_service
from bot.settings import Settings
from cases.accounts import AccountService
from cases.alert_links import AlertLinkService
from cases.audit import AuditService
from cases.intake import BlurPolicy, Draft, IntakeService, Submitted
from cases.membership import MembershipService
from cases.notification_stats import DeliveryStatsService
from cases.notifications import NotificationService
from cases.officers import AuthService, OfficerSession
from cases.runtime import Clock, KdfPool
from cases.setup import SetupService
from cases.stats import StatsService
from cases.transfers import TransferService
from cases.workflow import WorkflowService
from storage.crypto.primitives import KdfCost, random_bytes
from storage.crypto.receipts import new_receipt
from storage.db import make_engine, make_sessionmaker, migrate
from storage.repos_notify import SqlNotifyUnitOfWork

TEST_COST = KdfCost(memory_kib=64, iterations=1, lanes=1)
# The officers' own passwords, chosen at activation; an administrator set INITIAL_PASSWORD.
PASSWORD = "correct horse battery staple"
INITIAL_PASSWORD = "initial password from the administrator"
REPORT_TEXT = "三个月没发工资了，谁管管？<b> a <b & c _*[]()~ `code` 😀"

OFFICERS = {
    "triage1": ("triage", ("triage",)),
    "union1": ("union", ("union",)),
    "disc1": ("discipline", ("discipline",)),
    "overseer1": ("overseer", ()),
    "admin1": ("administrator", ()),
}


class TotpClock:
    """The time TOTP codes are made and checked at: real time, stepped 30 s per code, so a test
    can log the same officer in many times without replaying a code (which is refused)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def code(self, secret: str) -> str:
        self.offset += dt.timedelta(seconds=30)
        return pyotp.TOTP(secret).at(self())


class SetClock:
    """A clock the test sets by hand, for services whose answer depends on the date."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@dataclass
class Site:
    """Everything a service test needs, wired like bot/ does it."""

    engine: AsyncEngine
    uow: object
    setup: SetupService
    intake: IntakeService
    auth: AuthService
    casework: WorkflowService
    notifications: NotificationService
    recovery_words: str
    notify_key: bytes
    accounts: AccountService
    membership: MembershipService
    audit: AuditService
    totp_secrets: dict[str, str]
    totp_clock: TotpClock
    # Each activated officer's key fingerprint, as GET /auth/me shows it to them.
    fingerprints: dict[str, str] = field(default_factory=dict)

    def api_services(self) -> ApiServices:
        """The admin API's services over this site, as `bot.container` wires them."""
        return ApiServices(
            self.auth,
            self.casework,
            self.accounts,
            self.membership,
            self.audit,
            DeliveryStatsService(self.uow),  # type: ignore[arg-type]
            TransferService(self.uow),  # type: ignore[arg-type]
            StatsService(self.uow),  # type: ignore[arg-type]
            AlertLinkService(self.uow),  # type: ignore[arg-type]
        )

    async def login(self, username: str) -> OfficerSession:
        """A full session: password plus the current code from the officer's authenticator."""
        return await self.auth.login(username, PASSWORD, self.totp(username))

    def totp(self, username: str) -> str:
        """A fresh code from the officer's authenticator (a new time-step every call)."""
        return self.totp_clock.code(self.totp_secrets[username])

    async def activate(
        self, username: str, initial: str = INITIAL_PASSWORD, password: str = PASSWORD
    ) -> str:
        """First login with the initial password, then activation as the officer would do it:
        enrol an authenticator, choose `password`. Returns the new key's fingerprint."""
        session = await self.auth.login(username, initial)
        enrolment = self.auth.begin_enrolment(session)
        code = self.totp_clock.code(enrolment.secret)
        fingerprint = await self.auth.activate(session, code, password)
        self.totp_secrets[username] = enrolment.secret
        self.fingerprints[username] = fingerprint
        session.wipe()
        return fingerprint

    async def add_officer(self, username: str, role: str, *queues: str) -> str:
        """A new officer, activated, and granted `queues` with the recovery words."""
        await self.setup.add_officer(username, role, INITIAL_PASSWORD)
        fingerprint = await self.activate(username)
        for queue in queues:
            await self.setup.grant_with_recovery(queue, username, self.recovery_words, fingerprint)
        return fingerprint

    async def file_report(
        self, text: str = REPORT_TEXT, category: str = "wages"
    ) -> tuple[str, Submitted]:
        receipt = new_receipt()
        return receipt, await self.intake.submit(Draft(category=category, text=text), receipt)

    def intake_at(self, clock: Clock) -> IntakeService:
        """An intake whose receipt dates follow `clock`, with the default P8 arrival blur."""
        return IntakeService(
            self.uow,  # type: ignore[arg-type]
            KdfPool(2),
            notify_key=self.notify_key,
            blur=BlurPolicy(),
            clock=clock,
        )


async def build_site(database_url: str, *, officers: bool = True) -> Site:
    engine = make_engine(database_url)
    await migrate(engine)
    sessionmaker = make_sessionmaker(engine)

    def uow() -> SqlNotifyUnitOfWork:
        return SqlNotifyUnitOfWork(sessionmaker)

    kdf = KdfPool(2)
    totp_clock = TotpClock()
    notify_key = random_bytes(32)
    setup = SetupService(uow, kdf, TEST_COST)
    initialized = await setup.initialize()
    site = Site(
        engine=engine,
        uow=uow,
        setup=setup,
        intake=IntakeService(uow, kdf, notify_key=notify_key, blur=BlurPolicy(dt.timedelta(0))),
        auth=AuthService(uow, kdf, TEST_COST, totp_clock=totp_clock),
        casework=WorkflowService(uow),
        notifications=NotificationService(uow, notify_key),
        recovery_words=initialized.recovery_words,
        notify_key=notify_key,
        accounts=AccountService(uow, kdf, TEST_COST, setup),
        membership=MembershipService(uow),
        audit=AuditService(uow),
        totp_secrets={},
        totp_clock=totp_clock,
    )
    if officers:
        for username, (role, queues) in OFFICERS.items():
            await site.add_officer(username, role, *queues)
    return site


async def initialise_site(settings: Settings) -> None:
    """`speakup init` for `settings`, without officers: the processes refuse a database that
    was never initialised."""
    storage = await open_storage(settings, initialising=True)
    try:
        await setup_service(storage, settings).initialize()
    finally:
        await storage.close()
