"""Start-up checks and process signals for the long-running commands (run, bot, api, demo).

Each check turns a mistake an operator can make into one ConfigError naming the setting and
what to do, before anything is served: a wrong queue key pin, a busy port, a token Telegram
refuses, Telegram out of reach. Signals: SIGTERM (and SIGINT, unless the process started with
it ignored) ask for a clean stop, so temporary files go and connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar

from aiogram.exceptions import TelegramNetworkError, TelegramNotFound, TelegramUnauthorizedError

from bot.container import Storage, setup_service
from bot.settings import ConfigError, ServiceUnavailable, Settings
from cases.errors import KeyPinMismatch

T = TypeVar("T")

PIN_FROM_INIT = (
    "copy it from what `speakup init` printed, kept apart from the database "
    "(`speakup pin` shows the pin of the keys the database holds now: use it only for a "
    "database you trust)"
)


async def check_queue_key_pin(storage: Storage, settings: Settings) -> None:
    """Refuse to start when the queue public keys in the database are not the pinned ones.

    A swapped key would make the bot seal new reports to whoever swapped it (DESIGN §3); the
    repositories refuse it on every read too, but only here does the operator hear at once."""
    pinned = settings.queue_key_pin
    if not pinned:
        if settings.environment == "production":
            raise ConfigError(f"SPEAKUP_QUEUE_KEY_PIN is not set: {PIN_FROM_INIT}")
        return
    try:
        found = await setup_service(storage, settings).queue_key_pin()
    except KeyPinMismatch:
        found = ""
    if not hmac.compare_digest(found.encode(), pinned.encode()):
        raise ConfigError(
            "SPEAKUP_QUEUE_KEY_PIN does not match the queue keys in the database: either it "
            "was mistyped or the keys were replaced. Check it against what `speakup init` "
            "printed; do not take a new one from `speakup pin` unless you trust the database"
        )


def listen_socket(host: str, port: int, setting: str = "SPEAKUP_API_PORT") -> socket.socket:
    """A socket bound to host:port for a server to accept on; a busy port is a ConfigError.

    Binding here, rather than inside uvicorn, keeps a busy port one clear line instead of a
    server's log, a SystemExit and a task nobody awaited."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror or exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"{setting}: cannot listen on {host}:{port} ({exc.strerror or exc}); stop what "
            "uses it, or choose another port"
        ) from exc
    return sock


@contextlib.asynccontextmanager
async def telegram_answers(settings: Settings) -> AsyncIterator[None]:
    """Telegram's refusals and silence at start-up, as errors naming the setting to check."""
    try:
        yield
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise ConfigError(
            "Telegram refused SPEAKUP_BOT_TOKEN: check the token @BotFather gave you"
        ) from exc
    except TelegramNetworkError as exc:
        # The URL is the configured base only: Bot API request URLs carry the token.
        raise ServiceUnavailable(
            f"cannot reach Telegram at {settings.telegram_api_base} "
            "(SPEAKUP_TELEGRAM_API_BASE): check the network and any proxy, then start again"
        ) from exc


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """While inside, SIGTERM sets `stop`, and so does SIGINT (Ctrl-C) unless it was ignored
    when the process started (a job started with `&` from a script must stay deaf to it)."""
    loop = asyncio.get_running_loop()
    wanted = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        wanted.append(signal.SIGINT)
    for number in wanted:
        loop.add_signal_handler(number, stop.set)
    try:
        yield
    finally:
        for number in wanted:
            loop.remove_signal_handler(number)


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None once `stop` is set first (then `work` is cancelled and its
    clean-up — `finally` blocks, context managers — has run when this returns)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()
