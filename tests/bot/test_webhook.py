"""The webhook server over real HTTP with a real aiogram Dispatcher (no Telegram needed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from redis.asyncio import Redis

from bot.telegram import DeduplicateUpdates
from bot.updates import MemoryUpdateLedger, RedisUpdateLedger, UpdateLedger
from bot.webhook import SECRET_HEADER, WebhookServer

SECRET = "unit-test-secret_" + "9" * 20
PATH = "/hook"
CHAT = 770_654_321


@dataclass
class Handled:
    texts: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)


def update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Xiaoming"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Xiaoming"},
            "text": text,
        },
    }


@dataclass
class Served:
    server: WebhookServer
    handled: Handled
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: Any, secret: str | None = SECRET, path: str = PATH) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self.http.post(self.url + path, json=body, headers=headers) as answer:
            return answer.status


async def serve(ledger: UpdateLedger, *, max_in_flight: int = 200) -> Served:
    handled = Handled()
    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(DeduplicateUpdates(ledger))

    @dispatcher.message()
    async def record(message: Message) -> None:
        await handled.gate.wait()  # the test decides when processing ends
        handled.texts.append(message.text or "")

    bot = Bot("123456:unit-test-token")
    server = WebhookServer(
        bot,
        dispatcher,
        ledger,
        secret=SECRET,
        path=PATH,
        host="127.0.0.1",
        port=0,
        max_in_flight=max_in_flight,
        drain_seconds=5,
    )
    url = await server.start()
    return Served(server, handled, url, aiohttp.ClientSession())


@pytest.fixture
async def served(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Served]:
    caplog.set_level(logging.DEBUG)
    s = await serve(MemoryUpdateLedger())
    yield s
    s.handled.gate.set()
    await s.server.stop()
    await s.http.close()


async def test_without_the_secret_nothing_is_read_or_processed(served: Served) -> None:
    assert await served.post(update(1, "forged"), secret=None) == 401
    assert await served.post(update(1, "forged"), secret="") == 401
    assert await served.post(update(1, "forged"), secret=SECRET[:-1] + "0") == 401
    # Refused before the body is parsed: garbage gets the same answer.
    assert await served.post("not an update", secret="wrong") == 401
    # The forged update id was not claimed: the real one with that id is processed.
    served.handled.gate.set()
    assert await served.post(update(1, "real")) == 200
    await served.server.idle()
    assert served.handled.texts == ["real"]


async def test_answers_before_processing_and_a_repeat_is_dropped(served: Served) -> None:
    async with asyncio.timeout(2):  # answered while the handler is still waiting
        assert await served.post(update(7, "once")) == 200
        assert await served.post(update(7, "once")) == 200
    assert served.handled.texts == []
    served.handled.gate.set()
    await served.server.idle()
    assert served.handled.texts == ["once"]


async def test_a_malformed_update_is_refused_and_not_logged(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    bad = update(8, "MALFORMED-举报内容")
    bad["message"]["chat"] = "not a chat"
    assert await served.post(bad) == 400
    assert await served.post([1, 2, 3]) == 400
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "MALFORMED" not in logs
    assert str(CHAT) not in logs
    assert "malformed update refused" in logs


async def test_the_access_log_names_method_path_and_status_only(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    served.handled.gate.set()
    assert await served.post(update(9, "x"), path=f"{PATH}?chat_id={CHAT}") == 200
    assert await served.post(update(10, "x"), secret=SECRET + "x") == 401
    access = [r.getMessage() for r in caplog.records if r.name == "bot.webhook.access"]
    assert [line.rsplit(" ", 1)[0] for line in access] == [f"POST {PATH} 200", f"POST {PATH} 401"]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (str(CHAT), SECRET, "Xiaoming", "aiohttp", "127.0.0.1"):
        assert needle not in logs, needle


async def test_shutdown_refuses_new_updates_and_lets_accepted_ones_finish(
    served: Served,
) -> None:
    assert await served.post(update(11, "accepted")) == 200
    stopping = asyncio.create_task(served.server.stop())
    await asyncio.sleep(0.05)
    # Telegram is told to come back later (to another process, or this one restarted).
    assert await served.post(update(12, "too late")) == 503
    assert not stopping.done()
    served.handled.gate.set()
    await stopping
    assert served.handled.texts == ["accepted"]


async def test_too_many_in_flight_is_503_and_the_update_stays_unclaimed() -> None:
    s = await serve(MemoryUpdateLedger(), max_in_flight=1)
    try:
        assert await s.post(update(21, "first")) == 200
        assert await s.post(update(22, "second")) == 503
        s.handled.gate.set()
        await s.server.idle()
        assert await s.post(update(22, "second")) == 200  # Telegram's retry is taken
        await s.server.idle()
        assert s.handled.texts == ["first", "second"]
    finally:
        await s.server.stop()
        await s.http.close()


async def test_an_unreachable_ledger_is_503_so_telegram_retries() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    s = await serve(RedisUpdateLedger(redis, "speakup-test"))
    try:
        s.handled.gate.set()
        assert await s.post(update(31, "kept for later")) == 503
        await s.server.idle()
        assert s.handled.texts == []
    finally:
        await s.server.stop()
        await s.http.close()
        await redis.aclose()
