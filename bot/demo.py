"""`speakup demo`: the main job, offline, over real HTTP on loopback.

A local stand-in for the Telegram Bot API, the real bot and notifier, and the real admin API run
over an embedded SQLite database. Officers activate the accounts an administrator created; a
scripted reporter files a concern; a triage officer routes it to the union; a union officer
takes it on; the reporter hears back in the chat.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.container import open_storage, setup_service
from bot.demo_database import case_rows, identity_leaks
from bot.demo_transcript import NarratedReporter, Transcript
from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import OfficerClient
from bot.runner import Running, running
from bot.settings import Settings
from bot.startup import stop_on_signals, until_stopped
from cases.roles import Role

# From the sample corpus (dev-002): unpaid wages at a property-management company.
CONCERN = (
    "我们小区物业的保安和保洁，上个月的工资到现在还没发，问项目经理就说“甲方物业费没收上来”。"
    "每人四千二左右，一共二十来个人，好几个是外地的，房租都交不起了。有人已经在说要去堵公司大门。"
)
DEMO_TOKEN = "100000001:DEMO-not-a-real-token"  # noqa: S105 - only the local stand-in sees it
REPORTER_ID, REPORTER_FIRST, REPORTER_LAST, REPORTER_USERNAME = (
    555000111,
    "小明",
    "王",
    "xiaoming_w",
)
# username → (own password chosen at activation, TOTP secret)
Credentials = dict[str, tuple[str, str]]
OFFICERS = {
    "triage.demo": (Role.TRIAGE, "triage"),
    "union.demo": (Role.UNION, "union"),
    "discipline.demo": (Role.DISCIPLINE, "discipline"),
    "overseer.demo": (Role.OVERSEER, None),
    "admin.demo": (Role.ADMINISTRATOR, None),
}


class DemoSettings(Settings):
    """The demo's settings are all given in code: neither the environment nor a .env file is
    read, so an operator's SPEAKUP_* variables cannot leak into the demo (or redirect it)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 76 - len(title)))


@dataclass
class Onboarding:
    """What the demo's administrator set up: initial passwords and the recovery words."""

    initial_passwords: dict[str, str]
    recovery_words: str


async def _initialise(settings: Settings) -> Onboarding:
    """Keys, recovery words and the demo officers' accounts (not activated yet)."""
    storage = await open_storage(settings, initialising=True)
    setup = setup_service(storage, settings)
    try:
        initialized = await setup.initialize()
        settings.queue_key_pin = initialized.queue_key_pin
        initial: dict[str, str] = {}
        for username, (role, _) in OFFICERS.items():
            initial[username] = "initial-" + secrets.token_urlsafe(9)
            await setup.add_officer(username, role, initial[username])
    finally:
        await storage.close()
    return Onboarding(initial, initialized.recovery_words)


async def _onboard(app: Running, settings: Settings, onboarding: Onboarding) -> Credentials:
    """Each officer activates over the API; the first member of each queue gets its key from
    the recovery words, naming the fingerprint the officer read from their own session."""
    assert app.api_url is not None  # noqa: S101 - the demo always starts the API
    setup = setup_service(app.storage, settings)
    credentials: Credentials = {}
    for username, (_, queue) in OFFICERS.items():
        officer = OfficerClient(app.api_url)
        own = "demo-" + secrets.token_urlsafe(9)
        await officer.login(username, onboarding.initial_passwords[username], new_password=own)
        if officer.totp_secret is None or officer.fingerprint is None:
            raise RuntimeError(f"{username} was not activated")
        if queue:
            await setup.grant_with_recovery(
                queue, username, onboarding.recovery_words, officer.fingerprint
            )
            print(f"      {username:<15} key {officer.fingerprint} → {queue} queue granted")
        else:
            role = OFFICERS[username][0]
            print(f"      {username:<15} activated (an {role} holds no queue key)")
        credentials[username] = (own, officer.totp_secret)
        await officer.close()
    return credentials


async def _log_in(api_url: str, username: str, credentials: Credentials) -> OfficerClient:
    """A second login, which opens the queue key granted since activation."""
    password, secret = credentials[username]
    officer = OfficerClient(api_url)
    # Activation used this 30 s step's code; the next step's code is accepted once too.
    await officer.login(username, password, secret, step=int(time.time()) // 30 + 1)
    return officer


async def _scenario(app: Running, fake: FakeBotAPI, credentials: Credentials) -> None:
    """Play the loop with officers who activated their accounts."""
    assert app.api_url is not None  # noqa: S101 - the demo always starts the API
    user = fake.user(
        REPORTER_ID,
        REPORTER_FIRST,
        last_name=REPORTER_LAST,
        username=REPORTER_USERNAME,
        language_code="zh-hans",
    )
    chat = Transcript(fake, user.chat_id)
    reporter = NarratedReporter(fake, user, "zh_CN", chat)

    print("[2/5] A reporter files a concern in the chat (category: 工资报酬) …")
    filed = await reporter.file_report("rights", "wages", [CONCERN])
    print(f"      case {filed.reference} committed; receipt shown once and then deleted")

    print("[3/5] The triage officer routes it to the union queue …")
    chat.note(f"in the admin API, the triage officer routes case {filed.reference} to the union")
    triage = await _log_in(app.api_url, "triage.demo", credentials)
    mark = reporter.mark()
    await triage.triage(
        filed.reference,
        routing="union",
        severity="high",
        note="您反映的欠薪问题已转交工会办理。",
    )
    await reporter.expect(lambda e: "已受理" in e.text, mark)

    print("[4/5] A union officer sets it in progress with a note …")
    chat.note("a union officer takes the case on and writes a note for the reporter")
    union = await _log_in(app.api_url, "union.demo", credentials)
    mark = reporter.mark()
    await union.set_status(
        filed.reference,
        "in_progress",
        "工会已约谈物业公司负责人，要求本周内说明欠薪原因并给出发放时间。",
    )
    await reporter.expect(lambda e: "办理中" in e.text, mark)

    print("[5/5] The reporter checks the status with the receipt …")
    chat.note("later, the reporter checks the status with the receipt")
    await reporter.check_status(filed.receipt)

    _section("Chat transcript (what the reporter's phone showed, and each tap)")
    print(chat.text())

    _section(f"Union officer's decrypted view: GET /api/v1/cases/{filed.reference}")
    print(json.dumps(await union.case(filed.reference), ensure_ascii=False, indent=2))
    await triage.close()
    await union.close()

    _section("What the database holds for this case (ciphertext only)")
    for line in await case_rows(app.storage.engine, filed.reference):
        print(line)
    leaks = await identity_leaks(
        app.storage.engine, [str(REPORTER_ID), REPORTER_FIRST, REPORTER_LAST, REPORTER_USERNAME]
    )
    if leaks:
        raise RuntimeError(f"reporter identifiers found in the database: {leaks}")
    print("\nIdentity check: the reporter's user id, names and username appear in no table. ✓")


async def run_demo(*, once: bool, port: int, data_dir: str | None) -> int:
    """Play the scenario; then keep the admin API up until Ctrl-C or SIGTERM unless `once`.

    Without `data_dir` the database lives in a temporary directory, removed however the demo
    ends: at the end of the scenario, on Ctrl-C, on SIGTERM, or on a failure.
    """
    stop = asyncio.Event()
    with stop_on_signals(stop):
        if data_dir is not None:
            return await _run_demo(once, port, Path(data_dir), kept=True, stop=stop)
        with tempfile.TemporaryDirectory(prefix="speakup-demo-") as scratch:
            return await _run_demo(once, port, Path(scratch), kept=False, stop=stop)


async def _run_demo(
    once: bool, port: int, directory: Path, *, kept: bool, stop: asyncio.Event
) -> int:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start
    if (directory / "speakup.db").exists():
        raise SystemExit(f"{directory} already holds a demo database; choose an empty directory")
    if port and not _free(port):
        print(f"Port {port} is busy; the admin API will use a free port instead.")
        port = 0
    # The demo's deadlines are illustrative; a missing holiday file is an operator's concern.
    logging.getLogger("cases.working_days").setLevel(logging.ERROR)
    _section("SpeakUp demo — offline: a local stand-in answers for Telegram")
    print(f"Data directory: {directory}" + ("" if kept else " (removed when the demo ends)"))
    async with FakeBotAPI(DEMO_TOKEN) as fake:
        settings = DemoSettings(
            environment="demo",
            data_dir=directory,
            database_url="",
            bot_token=DEMO_TOKEN,
            telegram_api_base=fake.base_url,
            notify_key=base64.b64encode(os.urandom(32)).decode(),
            api_port=port,
            blur_max_minutes=0,  # in production new reports surface after a random delay
            notifier_poll_seconds=0.2,
        )
        onboarding = await _initialise(settings)
        async with running(settings, with_bot=True, with_api=True) as app:
            # Only the scenario is cut short by a signal; stopping what runs is `running`'s
            # clean-up, which must not be interrupted in turn.
            credentials = await until_stopped(_play(app, fake, settings, onboarding), stop)
            if credentials is None:
                print("\nStopped before the loop was complete.")
                return 130
            if fake.rejections:
                print(f"\nDEMO FAILED: Telegram would have refused {len(fake.rejections)} calls")
                return 1
            if not credentials:
                return 1
            _section("Done: the loop is complete")
            if once:
                print("Without --once the admin API stays up: log in there as any demo officer.")
                return 0
            _print_credentials(app, credentials)
            await stop.wait()
            print("\nStopping …")
    return 0


async def _play(
    app: Running, fake: FakeBotAPI, settings: Settings, onboarding: Onboarding
) -> Credentials:
    """Onboarding and the scenario; the officers' credentials, or none if the demo failed."""
    try:
        print(
            "[1/5] Officers log in with the initial password their administrator set, enrol an"
            "\n      authenticator and choose their own password; a new key is made under it. "
            "The first\n      member of each queue gets its key from the recovery words and "
            "the fingerprint\n      the officer reads out from GET /api/v1/auth/me …"
        )
        credentials = await _onboard(app, settings, onboarding)
        await _scenario(app, fake, credentials)
    except Exception as exc:
        print(f"\nDEMO FAILED: {type(exc).__name__}: {exc}")
        return {}
    return credentials


def _print_credentials(app: Running, credentials: Credentials) -> None:
    print(f"Admin API: {app.api_url}/docs  (Authorize with a token from /auth/login)")
    print(f"  {'officer':<16} {'role':<14} {'password':<22} TOTP secret (any authenticator app)")
    for username, (password, secret) in credentials.items():
        role = OFFICERS[username][0]
        print(f"  {username:<16} {role:<14} {password:<22} {secret}")
    print(
        "  Current code: .venv/bin/python -c "
        '"import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).now())" SECRET'
    )
    print("Press Ctrl-C to stop (the demo database is removed unless --data-dir was given).")
