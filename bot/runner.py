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
from collections.abc import AsyncIterator
from dataclasses import dataclass

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
    retention_service,
)
from bot.draft_storage import build_storage
from bot.notifier import Notifier
from bot.settings import Settings
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
from storage.db import migrate

log = logging.getLogger(__name__)


@dataclass
class Running:
    """Handles on what `start` launched, for the demo and the tests to use and stop."""

    storage: Storage
    bot: Bot | None
    dispatcher: Dispatcher | None
    app: FastAPI | None
    api_url: str | None
    tasks: list[asyncio.Task[None]]
    stop: asyncio.Event
    server: uvicorn.Server | None
    webhook: WebhookServer | None = None
    redis: Redis | None = None


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


async def _serve(server: uvicorn.Server) -> None:
    await server.serve()


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
    settings: Settings, bot: Bot, dispatcher: Dispatcher, ledger: UpdateLedger
) -> tuple[WebhookServer | None, asyncio.Task[None] | None]:
    """Serve the webhook when a URL is configured, else start polling."""
    if not settings.webhook_url:
        await bot.delete_webhook(drop_pending_updates=False)
        polling = dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        return None, asyncio.create_task(polling, name="polling")
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
    await webhook.start()
    try:
        await webhook.register(
            settings.webhook_url, max_connections=settings.webhook_max_connections
        )
    except BaseException:
        await webhook.stop()
        raise
    log.info("webhook: serving %s", settings.webhook_route)
    return webhook, None


async def start(settings: Settings, *, with_bot: bool, with_api: bool) -> Running:
    """Migrate, then launch the requested parts as tasks. Returns once the API accepts requests."""
    # Deadlines across a year without holiday data count Monday–Friday: say so at start-up.
    warn_if_uncovered(Deadlines(settings.deadline_policy).calendar, utcnow().date())
    storage = Storage(settings)
    await migrate(storage.engine)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    bot = dispatcher = None
    app = server = webhook = redis = None
    api_url = None
    if with_bot:
        services = bot_services(storage, settings)
        i18n = CatalogI18n()
        bot = build_bot(settings.bot_token.get_secret_value(), settings.telegram_api_base)
        ledger, isolation, redis = _update_guards(settings)
        dispatcher = build_dispatcher(
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
        webhook, polling = await _receive_updates(settings, bot, dispatcher, ledger)
        if polling is not None:
            tasks.append(polling)
        tasks.append(asyncio.create_task(notifier.run(stop), name="notifier"))
        retention = retention_service(storage, settings)
        interval = settings.retention_interval_hours * 3600
        tasks.append(asyncio.create_task(_daily(retention, interval, stop), name="retention"))
        scans = run_alert_scans(alert_service(storage, settings), settings.alert_scan_seconds, stop)
        tasks.append(asyncio.create_task(scans, name="alerts"))
    if with_api:
        app = create_app(
            api_services(storage, settings),
            session_idle=settings.session_idle,
            session_absolute=settings.session_absolute,
            session_sweep=settings.session_sweep,
        )
        config = uvicorn.Config(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            access_log=False,
            lifespan="on",  # the app's lifespan sweeps expired sessions' keys
        )
        server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(_serve(server), name="api"))
        while not server.started:
            if tasks[-1].done():
                tasks[-1].result()  # re-raise why the server could not start
                raise RuntimeError("admin API stopped during start-up")
            await asyncio.sleep(0.05)
        # Port 0 asks the OS for a free port; report the one actually bound.
        port = server.servers[0].sockets[0].getsockname()[1]
        api_url = f"http://{settings.api_host}:{port}"
    return Running(
        storage, bot, dispatcher, app, api_url, tasks, stop, server, webhook=webhook, redis=redis
    )


async def shutdown(running: Running) -> None:
    """Stop everything `start` launched and release connections."""
    running.stop.set()
    if running.webhook is not None:
        # The webhook stays registered with Telegram: see WebhookServer.stop.
        await running.webhook.stop()
    elif running.dispatcher is not None:
        with contextlib.suppress(RuntimeError):
            await running.dispatcher.stop_polling()
    if running.server is not None:
        running.server.should_exit = True
    if running.app is not None:
        running.app.state.sessions.close_all()
    for task in running.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
    if running.bot is not None:
        await running.bot.session.close()
    if running.redis is not None:
        await running.redis.aclose()
    await running.storage.close()


@contextlib.asynccontextmanager
async def running(settings: Settings, *, with_bot: bool, with_api: bool) -> AsyncIterator[Running]:
    """`start` … `shutdown` as a context manager."""
    handle = await start(settings, with_bot=with_bot, with_api=with_api)
    try:
        yield handle
    finally:
        await shutdown(handle)


async def serve_forever(settings: Settings, *, with_bot: bool, with_api: bool) -> None:
    """Run until cancelled (Ctrl-C) or until a part fails."""
    async with running(settings, with_bot=with_bot, with_api=with_api) as handle:
        log.info("running: bot=%s api=%s", with_bot, handle.api_url)
        done, _ = await asyncio.wait(handle.tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
