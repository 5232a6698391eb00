"""Drafts at rest: sealed under the draft key, expiring, in memory and in Redis."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.draft_storage import SealedStorage, build_storage

KEY = StorageKey(bot_id=1, chat_id=770123, user_id=770123)
DRAFT = {"parts": ["我们车间主任收了回扣 secret-words"], "lang": "zh_CN"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_draft_is_sealed_and_expires() -> None:
    clock = Clock()
    inner = MemoryStorage()
    storage = SealedStorage(inner, os.urandom(32), dt.timedelta(hours=2), clock)
    await storage.set_state(KEY, "ReportFlow:writing")
    await storage.set_data(KEY, DRAFT)
    # At rest: nothing readable.
    assert "secret-words" not in str(inner.storage)
    assert "回扣" not in str(inner.storage)
    assert await storage.get_data(KEY) == DRAFT
    assert await storage.get_state(KEY) == "ReportFlow:writing"
    # After the TTL the draft and its step are gone.
    clock.now += 2 * 3600 + 1
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}


async def test_another_key_cannot_open_a_draft() -> None:
    inner = MemoryStorage()
    await SealedStorage(inner, os.urandom(32), dt.timedelta(hours=2)).set_data(KEY, DRAFT)
    thief = SealedStorage(inner, os.urandom(32), dt.timedelta(hours=2))
    assert await thief.get_data(KEY) == {}


async def test_redis_draft_is_prefixed_sealed_expiring_and_survives_a_restart() -> None:
    redis = pytest.importorskip("redis.asyncio")
    url = "redis://127.0.0.1:6379/15"
    client = redis.from_url(url)
    try:
        await client.ping()
    except Exception:
        pytest.skip("Redis is not running")
    prefix = f"speakup-test-{os.urandom(4).hex()}"
    key = os.urandom(32)
    storage = build_storage(url, key, dt.timedelta(hours=2), prefix)
    await storage.set_state(KEY, "ReportFlow:writing")
    await storage.set_data(KEY, DRAFT)
    await storage.close()
    names = [k.decode() async for k in client.scan_iter(f"{prefix}:*")]
    assert names
    for name in names:
        assert 0 < await client.ttl(name) <= 2 * 3600
        value = await client.get(name)
        assert b"secret-words" not in (value or b"")
    # A new process with the same draft key resumes the draft.
    again = build_storage(url, key, dt.timedelta(hours=2), prefix)
    assert await again.get_state(KEY) == "ReportFlow:writing"
    assert await again.get_data(KEY) == DRAFT
    await again.close()
    for name in names:
        await client.delete(name)
    await client.aclose()
