"""The fake Bot API's webhook delivery and the fake load balancer, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from bot.devtools.fake_balancer import FakeBalancer
from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.fake_webhook import SECRET_HEADER

TOKEN = "123456:TEST-fake-token"
SECRET = "s3cret-Token_for-tests"


@dataclass
class Endpoint:
    """A webhook receiver answering the statuses queued in `answers` (then 200)."""

    answers: list[int] = field(default_factory=list)
    received: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
        self.arrived.set()
        return web.json_response({}, status=self.answers.pop(0) if self.answers else 200)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def serve(endpoint: Endpoint) -> Endpoint:
    app = web.Application()
    app.router.add_post("/hook", endpoint.handle)
    endpoint.runner = web.AppRunner(app, access_log=None)
    await endpoint.runner.setup()
    await web.TCPSite(endpoint.runner, "127.0.0.1", 0).start()
    endpoint.url = f"http://127.0.0.1:{endpoint.runner.addresses[0][1]}/hook"
    return endpoint


async def settled(fake: FakeBotAPI) -> None:
    """Until every pending update was POSTed to the webhook and answered 2xx."""
    while fake.pending_update_count():
        await fake.wait_for_deliveries(len(fake.webhook_deliveries) + 1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    yield bot
    await bot.session.close()


@pytest.fixture
async def endpoints() -> AsyncIterator[tuple[Endpoint, Endpoint]]:
    receivers = await serve(Endpoint()), await serve(Endpoint())
    yield receivers
    for receiver in receivers:
        assert receiver.runner is not None
        await receiver.runner.cleanup()


@pytest.fixture
def endpoint(endpoints: tuple[Endpoint, Endpoint]) -> Endpoint:
    return endpoints[0]


async def test_updates_carry_the_secret_and_are_retried_until_answered_2xx(
    fake: FakeBotAPI, bot: Bot, endpoint: Endpoint
) -> None:
    endpoint.answers = [500, 502]
    await bot.set_webhook(endpoint.url, secret_token=SECRET)
    await fake.user(1001, "Reporter").send_text("hello")
    await endpoint.wait_for(3)
    await asyncio.sleep(0.1)  # nothing more arrives once answered 2xx
    assert len(endpoint.received) == 3
    assert {secret for secret, _ in endpoint.received} == {SECRET}
    [update_id] = {update["update_id"] for _, update in endpoint.received}
    assert endpoint.received[0][1]["message"]["text"] == "hello"
    assert [(d.update_id, d.status) for d in fake.webhook_deliveries] == [
        (update_id, 500),
        (update_id, 502),
        (update_id, 200),
    ]
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message is not None
    assert info.last_error_message.startswith("Wrong response from the webhook: 502")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)


async def test_an_unreachable_webhook_keeps_the_update_for_get_updates(
    fake: FakeBotAPI, bot: Bot, endpoint: Endpoint
) -> None:
    assert endpoint.runner is not None
    await endpoint.runner.cleanup()  # nobody listens there any more
    await bot.set_webhook(endpoint.url)
    await fake.user(1002, "Reporter").send_text("kept")
    await fake.wait_for_deliveries(1)
    info = await bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_message) == (1, "Connection refused")
    assert fake.webhook_deliveries[0].status is None
    assert not fake.webhook_deliveries[0].with_secret
    await bot.delete_webhook(drop_pending_updates=False)
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.text == "kept"


async def test_set_webhook_refuses_what_telegram_refuses(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://bot.example.org/hook")
    with pytest.raises(TelegramBadRequest, match="unallowed characters"):
        await bot.set_webhook("https://bot.example.org/hook", secret_token="with space")
    with pytest.raises(TelegramBadRequest, match="unallowed characters"):
        await bot.set_webhook("https://bot.example.org/hook", secret_token="x" * 257)
    with pytest.raises(TelegramBadRequest, match="max_connections"):
        await bot.set_webhook("https://bot.example.org/hook", max_connections=101)
    assert (await bot.get_webhook_info()).url == ""


async def test_allowed_updates_and_drop_pending_updates(
    fake: FakeBotAPI, bot: Bot, endpoint: Endpoint
) -> None:
    user = fake.user(1003, "Reporter")
    await user.send_text("pending before the webhook")
    await bot.set_webhook(endpoint.url, drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0
    await bot.set_webhook(endpoint.url, allowed_updates=["edited_message"])
    message_id = await user.send_text("not asked for")
    await user.edit_text(message_id, "asked for")
    await endpoint.wait_for(1)
    await asyncio.sleep(0.1)
    assert [list(update)[1] for _, update in endpoint.received] == ["edited_message"]
    info = await bot.get_webhook_info()
    assert (info.allowed_updates, info.pending_update_count) == (["edited_message"], 0)


async def test_a_resent_update_is_posted_again(
    fake: FakeBotAPI, bot: Bot, endpoint: Endpoint
) -> None:
    await bot.set_webhook(endpoint.url)
    user = fake.user(1004, "Reporter")
    assert fake.upcoming_update_id() == fake.upcoming_update_id()
    expected = fake.upcoming_update_id()
    await user.send_text("twice")
    user.resend_last_update()
    await endpoint.wait_for(2)
    assert [update["update_id"] for _, update in endpoint.received] == [expected, expected]


async def test_balancer_round_robin_lost_answers_mirroring_and_no_backend(
    endpoints: tuple[Endpoint, Endpoint],
) -> None:
    first, second = endpoints
    async with FakeBalancer() as balancer, FakeBotAPI(TOKEN) as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        await bot.set_webhook(balancer.url + "/hook", secret_token=SECRET)
        user = fake.user(1005, "Reporter")
        await user.send_text("no backend yet")  # 502 from the balancer, retried
        await fake.wait_for_deliveries(1)
        assert fake.webhook_deliveries[0].status == 502
        balancer.backends = [first.url.removesuffix("/hook"), second.url.removesuffix("/hook")]
        await settled(fake)
        balancer.lose_answers(1)
        await user.send_text("answer lost")  # reaches a backend, yet Telegram sees 504
        await settled(fake)
        balancer.mirror(1)
        await user.send_text("to both")
        await first.wait_for(3)
        await second.wait_for(2)
        await bot.session.close()
    texts = [[update["message"]["text"] for _, update in e.received] for e in (first, second)]
    assert texts == [
        ["no backend yet", "answer lost", "to both"],
        ["answer lost", "to both"],
    ]
    statuses = [d.status for d in fake.webhook_deliveries]
    assert statuses[0] == 502
    assert [s for s in statuses if s != 502] == [200, 504, 200, 200]
    assert {secret for e in (first, second) for secret, _ in e.received} == {SECRET}
