"""Process runners: the bot (polling or webhook, + notifier), the admin API, or both in one process.

The bot receives updates by webhook when `SPEAKUP_WEBHOOK_URL` is set and by polling otherwise;
with `SPEAKUP_REDIS_URL` the update ledger and the per-chat isolation locks live in Redis so
several bot processes can share one webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation
from fastapi import FastAPI
from redis.asyncio import Redis

from admin_api.app import create_app
from bot.alert_channel import AlertChannel
from bot.alert_scanner import run_alert_scans
from bot.channels import ReporterChannel
from bot.container import (
    Storage,
    alert_delivery_service,
    alert_link_service,
    alert_service,
    api_services,
    bot_services,
    notifier_limits,
    open_storage,
    retention_service,
)
from bot.draft_storage import build_storage
from bot.notifier import Notifier
from bot.settings import ConfigError, Settings
from bot.startup import (
    check_queue_key_pin,
    listen_socket,
    stop_on_signals,
    telegram_answers,
    until_stopped,
)
from bot.telegram import build_bot, build_dispatcher
from bot.updates import (
    KeyedHashKeyBuilder,
    MemoryUpdateLedger,
    RedisUpdateLedger,
    UpdateLedger,
    isolation_key,
)
from bot.webhook import WebhookServer
from cases.deadlines import Deadlines
from cases.ratelimit import Limits, RateLimiter
from cases.retention import RetentionService
from cases.runtime import utcnow
from cases.working_days import warn_if_uncovered
from handlers.i18n import CatalogI18n
from handlers.report_files import AttachmentLimits, CleaningPool

log = logging.getLogger(__name__)


@dataclass
class Running:
    """Handles on what `start` launched, for the demo and the tests to use and stop."""

    storage: Storage
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    app: FastAPI | None = None
    api_url: str | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    server: uvicorn.Server | None = None
    webhook: WebhookServer | None = None
    redis: Redis | None = None


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the process owns SIGINT and SIGTERM
    (`bot.startup.stop_on_signals`). uvicorn's would stop only the API and then re-raise the
    signal, killing the process before its clean-up, or, with SIGINT ignored, leave it waiting
    with the API gone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _daily(retention: RetentionService, interval: float, stop: asyncio.Event) -> None:
    """Run the retention purge now and then every `interval` seconds until `stop`."""
    while not stop.is_set():
        try:
            plan = await retention.run(dry_run=False)
            log.info("retention: %d case(s), %d link(s) purged", len(plan.cases), len(plan.links))
        except Exception as exc:  # try again next time; never take the bot down
            log.error("retention run failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    await server.serve(sockets=[sock])


def _update_guards(settings: Settings) -> tuple[UpdateLedger, BaseEventIsolation, Redis | None]:
    """The update ledger and event isolation: in Redis when configured, else in memory."""
    if not settings.redis_url:
        return MemoryUpdateLedger(), SimpleEventIsolation(), None
    redis = Redis.from_url(settings.redis_url)
    draft_key = settings.draft_key_bytes()
    if draft_key is None:
        # Drafts cannot move between processes either; one process is all this supports.
        log.warning("SPEAKUP_REDIS_URL without SPEAKUP_DRAFT_KEY: chats are isolated per process")
    builder = KeyedHashKeyBuilder(
        isolation_key(draft_key or os.urandom(32)), f"{settings.redis_key_prefix}:isolation"
    )
    ledger = RedisUpdateLedger(redis, settings.redis_key_prefix)
    return ledger, RedisEventIsolation(redis, key_builder=builder), redis


async def _receive_updates(
    settings: Settings, handle: Running, bot: Bot, dispatcher: Dispatcher, ledger: UpdateLedger
) -> asyncio.Task[None] | None:
    """Serve the webhook when a URL is configured, else start polling."""
    if not settings.webhook_url:
        await bot.delete_webhook(drop_pending_updates=False)
        polling = dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        return asyncio.create_task(polling, name="polling")
    # In demo and test a secret may be left out; this process then makes its own.
    secret = settings.webhook_secret.get_secret_value() or secrets.token_urlsafe(32)
    webhook = WebhookServer(
        bot,
        dispatcher,
        ledger,
        secret=secret,
        path=settings.webhook_route,
        host=settings.webhook_host,
        port=settings.webhook_port,
        max_in_flight=settings.webhook_max_in_flight,
        drain_seconds=settings.webhook_drain_seconds,
    )
    try:
        await webhook.start()
    except OSError as exc:
        where = f"{settings.webhook_host}:{settings.webhook_port}"
        raise ConfigError(
            f"SPEAKUP_WEBHOOK_PORT: cannot listen on {where} ({exc.strerror or exc}); stop what "
            "uses it, or choose another port"
        ) from exc
    handle.webhook = webhook  # stopped by `shutdown`, also if registering fails
    await webhook.register(settings.webhook_url, max_connections=settings.webhook_max_connections)
    log.info("webhook: serving %s", settings.webhook_route)
    return None


async def start(settings: Settings, *, with_bot: bool, with_api: bool) -> Running:
    """Check the settings and the database, then launch the requested parts as tasks.

    Returns once the API accepts requests. What is wrong with the settings is a ConfigError
    naming the setting (`bot.settings`); whatever was started by then is stopped again."""
    if with_bot:
        settings.check_bot_secrets()
    handle = Running(await open_storage(settings))
    try:
        await check_queue_key_pin(handle.storage, settings)
        # Bound before the bot starts: a busy port then stops nothing half-way.
        sock = listen_socket(settings.api_host, settings.api_port) if with_api else None
        try:
            if with_bot:
                await _start_bot(handle, settings)
            if sock is not None:
                await _start_api(handle, settings, sock)
        finally:
            if sock is not None and handle.server is None:
                sock.close()
    except BaseException:
        await shutdown(handle)
        raise
    # Deadlines across a year without holiday data count Monday–Friday: say so at start-up.
    warn_if_uncovered(Deadlines(settings.deadline_policy).calendar, utcnow().date())
    return handle


async def _start_bot(handle: Running, settings: Settings) -> None:
    storage = handle.storage
    services = bot_services(storage, settings)
    i18n = CatalogI18n()
    bot = handle.bot = build_bot(settings.bot_token.get_secret_value(), settings.telegram_api_base)
    ledger, isolation, handle.redis = _update_guards(settings)
    dispatcher = handle.dispatcher = build_dispatcher(
        services.intake,
        i18n,
        build_storage(
            settings.redis_url,
            settings.draft_key_bytes(),
            settings.draft_ttl,
            settings.redis_key_prefix,
        ),
        departments=settings.departments,
        replies_per_case_per_day=settings.replies_per_case_per_day,
        limiter=RateLimiter(
            Limits(
                reports_per_day=settings.reports_per_chat_per_day,
                wrong_receipts_per_hour=settings.wrong_receipts_per_chat_per_hour,
                receipt_checks_per_minute=settings.receipt_checks_per_minute,
                followups_per_hour=settings.followups_per_chat_per_hour,
            )
        ),
        attachment_limits=AttachmentLimits.from_megabytes(
            settings.attachment_max_mb,
            settings.attachments_per_report,
            settings.attachments_total_mb,
        ),
        cleaning=CleaningPool(settings.cleaning_concurrency),
        draft_ttl=settings.draft_ttl,
        alert_links=alert_link_service(storage, settings),
        ledger=ledger,
        isolation=isolation,
    )
    notifier = Notifier(
        bot,
        [
            ReporterChannel(services.notifications, i18n),
            AlertChannel(alert_delivery_service(storage, settings), i18n),
        ],
        notifier_limits(settings),
    )
    async with telegram_answers(settings):
        polling = await _receive_updates(settings, handle, bot, dispatcher, ledger)
    if polling is not None:
        handle.tasks.append(polling)
    stop = handle.stop
    handle.tasks.append(asyncio.create_task(notifier.run(stop), name="notifier"))
    retention = retention_service(storage, settings)
    interval = settings.retention_interval_hours * 3600
    handle.tasks.append(asyncio.create_task(_daily(retention, interval, stop), name="retention"))
    scans = run_alert_scans(alert_service(storage, settings), settings.alert_scan_seconds, stop)
    handle.tasks.append(asyncio.create_task(scans, name="alerts"))


async def _start_api(handle: Running, settings: Settings, sock: socket.socket) -> None:
    handle.app = create_app(
        api_services(handle.storage, settings),
        session_idle=settings.session_idle,
        session_absolute=settings.session_absolute,
        session_sweep=settings.session_sweep,
    )
    config = uvicorn.Config(
        handle.app,
        log_level="warning",
        access_log=False,
        lifespan="on",  # the app's lifespan sweeps expired sessions' keys
    )
    server = handle.server = _Server(config)
    task = asyncio.create_task(_serve(server, sock), name="api")
    handle.tasks.append(task)
    while not server.started:
        if task.done():
            task.result()  # re-raise why the server could not start
            raise RuntimeError("admin API stopped during start-up")
        await asyncio.sleep(0.05)
    # Port 0 asks the OS for a free port; report the one actually bound.
    port = sock.getsockname()[1]
    handle.api_url = f"http://{settings.api_host}:{port}"


async def shutdown(running: Running) -> None:
    """Stop everything `start` launched and release connections.

    Each part is stopped even if another fails to; a task that does not finish in time is
    cancelled, so shutdown ends."""
    running.stop.set()
    async with _step("webhook"):
        if running.webhook is not None:
            # The webhook stays registered with Telegram: see WebhookServer.stop.
            await running.webhook.stop()
        elif running.dispatcher is not None:
            with contextlib.suppress(RuntimeError):  # polling had not started
                await running.dispatcher.stop_polling()
    if running.server is not None:
        running.server.should_exit = True
    if running.app is not None:
        running.app.state.sessions.close_all()
    if running.tasks:
        _, late = await asyncio.wait(running.tasks, timeout=10)
        for task in late:
            log.warning("shutdown: %s did not stop in time; cancelled", task.get_name())
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
        for task in running.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("shutdown: %s had failed: %s", task.get_name(), task.exception())
    async with _step("bot session"):
        if running.bot is not None:
            await running.bot.session.close()
    async with _step("redis"):
        if running.redis is not None:
            await running.redis.aclose()
    await running.storage.close()


@contextlib.asynccontextmanager
async def _step(name: str) -> AsyncIterator[None]:
    """One part of the shutdown: its failure is logged (type only) and the rest goes on."""
    try:
        yield
    except Exception as exc:
        log.warning("shutdown: stopping the %s failed: %s", name, type(exc).__name__)


@contextlib.asynccontextmanager
async def running(settings: Settings, *, with_bot: bool, with_api: bool) -> AsyncIterator[Running]:
    """`start` … `shutdown` as a context manager."""
    handle = await start(settings, with_bot=with_bot, with_api=with_api)
    try:
        yield handle
    finally:
        await shutdown(handle)


async def serve_forever(settings: Settings, *, with_bot: bool, with_api: bool) -> None:
    """Run until SIGTERM or Ctrl-C (then stop cleanly), or until a part fails."""
    stop = asyncio.Event()
    with stop_on_signals(stop):
        async with running(settings, with_bot=with_bot, with_api=with_api) as handle:
            log.info("running: bot=%s api=%s", with_bot, handle.api_url)
            parts = asyncio.wait(handle.tasks, return_when=asyncio.FIRST_COMPLETED)
            finished = await until_stopped(parts, stop)
            if finished is not None:
                for task in finished[0]:
                    task.result()
                raise RuntimeError("a part of the process stopped unexpectedly")
