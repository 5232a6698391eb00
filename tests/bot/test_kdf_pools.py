"""Argon2 queues under `speakup run`: a burst of anonymous logins on the admin API can neither
delay a reporter's receipt in the bot nor queue without bound (attacks, ordering not timing)."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from admin_api.app import create_app
from bot.container import ApiServices, BotServices, Storage, api_services, bot_services
from bot.container import setup_service as build_setup
from bot.settings import Settings
from cases.errors import AuthenticationFailed
from storage.crypto.receipts import new_receipt
from storage.db import migrate
from tests.factories import TEST_COST


@dataclass
class Wired:
    storage: Storage
    bot: BotServices
    api: ApiServices


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[Wired]:
    """The bot's and the API's services over one storage, as `speakup run` wires them."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        notify_key=base64.b64encode(os.urandom(32)).decode(),
        kdf_memory_kib=TEST_COST.memory_kib,
        kdf_iterations=TEST_COST.iterations,
        kdf_lanes=TEST_COST.lanes,
        kdf_concurrency=1,
        login_max_waiting=2,
    )
    storage = Storage(settings)
    await migrate(storage.engine)
    await build_setup(storage, settings).initialize()
    yield Wired(storage, bot_services(storage, settings), api_services(storage, settings))
    await storage.close()


async def _until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (at most about 10 s)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the queue never reached the expected state")


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    """Drop the queued logins: only the order is under test, and their failure audits would
    race each other for the audit chain's head."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_attack_login_burst_does_not_queue_in_front_of_a_receipt(wired: Wired) -> None:
    """Given the API's Argon2 slot busy and logins for unknown names queued behind it, when a
    reporter's receipt is derived in the bot, then it completes while every login still waits."""
    gate = threading.Event()
    pool = wired.storage.officer_kdf
    blocker = asyncio.create_task(pool.run(gate.wait, 30))
    logins = [
        asyncio.create_task(wired.api.auth.login(f"nobody{i}", "a wrong password", "123456"))
        for i in range(3)
    ]
    try:
        await _until(lambda: pool.waiting == 3)
        keys = await asyncio.wait_for(wired.bot.intake.receipt_keys(new_receipt()), timeout=10)
        assert keys is not None
        assert not any(login.done() for login in logins)  # the receipt went first
    finally:
        await _cancel(logins)
        gate.set()
    await blocker
    assert pool.waiting == 0
    with pytest.raises(AuthenticationFailed):  # the API's queue works on afterwards
        await wired.api.auth.login("nobody", "a wrong password", "123456")


async def test_attack_logins_beyond_the_bound_get_429_before_any_argon2(wired: Wired) -> None:
    """Given one login deriving and two waiting (the bound), when a fourth arrives over HTTP,
    then it is answered 429 `too_many_attempts` with Retry-After at once, not queued; and
    once the queue drains logins are accepted again."""
    app = create_app(wired.api)
    transport = httpx.ASGITransport(app=app)
    pool = wired.storage.officer_kdf
    gate = threading.Event()
    argon2_runs = 0
    real_run = pool.run

    async def gated_run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal argon2_runs

        def blocked():  # type: ignore[no-untyped-def]
            nonlocal argon2_runs
            argon2_runs += 1
            gate.wait(30)
            return fn(*args, **kwargs)

        return await real_run(blocked)

    pool.run = gated_run  # type: ignore[method-assign]
    body = {"username": "nobody", "password": "a wrong password", "totp": "123456"}
    async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client:
        admitted = [
            asyncio.create_task(client.post("/api/v1/auth/login", json=body)) for _ in range(3)
        ]
        try:
            await _until(lambda: argon2_runs == 1 and pool.waiting == 2)
            refused = await asyncio.wait_for(
                client.post("/api/v1/auth/login", json=body), timeout=10
            )
            assert refused.status_code == 429
            assert refused.json()["code"] == "too_many_attempts"
            assert int(refused.headers["Retry-After"]) >= 1
            # The refused login derived nothing and joined no queue.
            assert argon2_runs == 1
            assert pool.waiting == 2
        finally:
            await _cancel(admitted)
            gate.set()
        await _until(lambda: pool.waiting == 0)
        again = await client.post("/api/v1/auth/login", json={**body, "username": "other"})
        assert again.status_code == 401  # admitted again once the queue drained
