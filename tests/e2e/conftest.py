"""The whole product on loopback: fake Telegram, the real bot and notifier, the real admin API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from bot.container import Storage, setup_service
from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import OfficerClient, ScriptedReporter
from bot.runner import Running, running
from bot.settings import Settings
from cases.officers import AuthService
from storage.db import migrate
from tests.conftest import REDIS_URL
from tests.factories import INITIAL_PASSWORD, OFFICERS, PASSWORD, TEST_COST

TOKEN = "123456:TEST-token"
DEPARTMENTS = ["生产部 Production", "财务部 Finance"]


@dataclass
class Stack:
    fake: FakeBotAPI
    app: Running
    settings: Settings
    api_url: str
    totp_secrets: dict[str, str] = field(default_factory=dict)
    totp_steps: dict[str, int] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    # Every officer client handed out, closed when the stack stops even if the test failed
    # half-way: an open connection would otherwise be reported in whichever test runs next.
    clients: list[OfficerClient] = field(default_factory=list)
    # What the login service logged (an unexpected error is a plain 401 over HTTP).
    login_log: list[str] = field(default_factory=list)

    def reporter(
        self,
        user_id: int = 770001,
        *,
        first_name: str = "Xiaoming",
        last_name: str | None = "Wangsurname",
        username: str | None = "wxm_reporter",
        language_code: str = "zh-hans",
    ) -> ScriptedReporter:
        user = self.fake.user(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        locale = "en" if language_code.startswith("en") else "zh_CN"
        return ScriptedReporter(self.fake, user, locale)

    async def officer(self, username: str) -> OfficerClient:
        """A logged-in officer. An officer the stack has not seen yet (one an administrator
        created during the test) activates: INITIAL_PASSWORD, a new authenticator, PASSWORD.

        Each TOTP step is accepted once per officer, so a later login uses a step newer than
        the last one used (`next_totp_step`).
        """
        client = OfficerClient(self.api_url)
        self.clients.append(client)
        step = None
        try:
            if username in self.totp_secrets:
                step = await next_totp_step(self.totp_steps.get(username))
                await client.login(username, PASSWORD, self.totp_secrets[username], step)
            else:
                await client.login(username, INITIAL_PASSWORD, new_password=PASSWORD)
        except AssertionError as exc:
            # A refused login says only "wrong credentials"; the server's log says why.
            raise AssertionError(f"{exc}; the API logged: {self.login_log}") from exc
        # The activation used the current step; later logins must go beyond it.
        self.totp_steps[username] = step if step is not None else int(time.time()) // 30
        if client.totp_secret:
            self.totp_secrets[username] = client.totp_secret
        if client.fingerprint:
            self.fingerprints[username] = client.fingerprint
        return client


# A step one behind the server's clock is used only while it stays valid this long.
_BEHIND_MARGIN = 10.0


def totp_step_after(last: int | None) -> tuple[int, float]:
    """The oldest TOTP step newer than `last` that the server accepts now, and how many seconds
    to wait before it does.

    The server accepts each step once per officer, and steps one either side of its clock's.
    Taking the oldest acceptable step leaves newer ones for a test's next logins, so two or
    three logins of one officer need not wait for the clock; the step one behind is taken only
    while it stays valid for another `_BEHIND_MARGIN` seconds. A step two ahead of the clock
    has to wait for the next 30 s window.
    """
    t = time.time()
    now = int(t) // 30
    oldest = now - 1 if (now + 1) * 30 - t >= _BEHIND_MARGIN else now
    step = oldest if last is None else max(oldest, last + 1)
    wait = (step - 1) * 30 - t
    return step, wait + 0.1 if wait > 0 else 0.0


async def next_totp_step(last: int | None) -> int:
    """`totp_step_after`, waiting until the server accepts it."""
    step, wait = totp_step_after(last)
    await asyncio.sleep(wait)
    return step


def redis_overrides(prefix: str) -> dict[str, object]:
    """Settings for processes that keep drafts (sealed under a draft key of their own) and
    update records in the test Redis, under `prefix`."""
    draft_key = base64.b64encode(os.urandom(32)).decode()
    return {"redis_url": REDIS_URL, "redis_key_prefix": prefix, "draft_key": draft_key}


def stack_settings(
    fake: FakeBotAPI, database_url: str, data_dir: Path, **overrides: object
) -> Settings:
    """The settings every e2e stack runs with, plus `overrides`."""
    fields: dict[str, object] = {
        "environment": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "bot_token": TOKEN,
        "telegram_api_base": fake.base_url,
        "notify_key": base64.b64encode(os.urandom(32)).decode(),
        "api_port": 0,
        "kdf_memory_kib": TEST_COST.memory_kib,
        "kdf_iterations": TEST_COST.iterations,
        "kdf_lanes": TEST_COST.lanes,
        "blur_max_minutes": 0,
        "notifier_poll_seconds": 0.1,
        "alert_scan_seconds": 0.2,
        "departments": DEPARTMENTS,
        **overrides,
    }
    return Settings.model_validate(fields)


@dataclass(frozen=True)
class Activated:
    """A test officer who activated their account before the stack started."""

    secret: str  # their authenticator's TOTP secret
    step: int  # the TOTP step the activation used: later logins must use newer ones
    fingerprint: str


async def initialise(settings: Settings) -> dict[str, Activated]:
    """Migrate and create the site; the test officers activate their accounts (own password,
    authenticator) and get their queues from the recovery words, by fingerprint."""
    storage = Storage(settings)
    await migrate(storage.engine)
    setup = setup_service(storage, settings)
    initialized = await setup.initialize()
    words = initialized.recovery_words
    # Pinned like `speakup init` tells operators to: the running processes check it.
    settings.queue_key_pin = initialized.queue_key_pin
    auth = AuthService(storage.uow, storage.officer_kdf, settings.kdf_cost)
    activated: dict[str, Activated] = {}
    for username, (role, queues) in OFFICERS.items():
        await setup.add_officer(username, role, INITIAL_PASSWORD)
        session = await auth.login(username, INITIAL_PASSWORD)
        secret = auth.begin_enrolment(session).secret
        step = await next_totp_step(None)
        code = pyotp.TOTP(secret).generate_otp(step)
        fingerprint = await auth.activate(session, code, PASSWORD)
        for queue in queues:
            await setup.grant_with_recovery(queue, username, words, fingerprint)
        activated[username] = Activated(secret, step, fingerprint)
    await storage.close()
    return activated


async def log_in(api_url: str, username: str, activated: dict[str, Activated]) -> OfficerClient:
    """The first login, after `initialise`, of an officer it activated (the next TOTP step)."""
    officer = OfficerClient(api_url)
    try:
        step = await next_totp_step(activated[username].step)
        await officer.login(username, PASSWORD, activated[username].secret, step)
    except BaseException:
        await officer.close()
        raise
    return officer


@pytest.fixture
async def stack(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Stack]:
    """Everything running; log records from every logger are captured for the identity scan."""
    with capture_every_log(caplog):
        async with FakeBotAPI(TOKEN) as fake:
            async with running_stack(fake, stack_settings(fake, database_url, tmp_path)) as stack:
                yield stack
            assert fake.rejections == [], f"Telegram would have refused: {fake.rejections}"


@contextlib.asynccontextmanager
async def running_stack(fake: FakeBotAPI, settings: Settings) -> AsyncIterator[Stack]:
    """A new site with its officers activated, and the bot and the admin API running on it."""
    activated = await initialise(settings)
    async with running(settings, with_bot=True, with_api=True) as app:
        assert app.api_url is not None
        stack = Stack(
            fake,
            app,
            settings,
            app.api_url,
            totp_secrets={u: a.secret for u, a in activated.items()},
            totp_steps={u: a.step for u, a in activated.items()},
            fingerprints={u: a.fingerprint for u, a in activated.items()},
        )
        handler = _Collect(stack.login_log)
        login_logger = logging.getLogger("cases.officers")
        login_logger.addHandler(handler)
        try:
            yield stack
        finally:
            login_logger.removeHandler(handler)
            for client in stack.clients:
                await client.close()


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.INFO)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(record.getMessage())


@contextlib.contextmanager
def capture_every_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture every record of every logger down to DEBUG, for the identity scans."""
    caplog.set_level(logging.DEBUG)
    # aiosqlite's DEBUG lines outlive the test's log capture and carry no product output. It is
    # quietened at its own logger: caplog.set_level(..., logger=...) would also raise the
    # capture handler's level and silently drop every INFO line from the scan.
    quiet = logging.getLogger("aiosqlite")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        yield
    finally:
        quiet.setLevel(level)
