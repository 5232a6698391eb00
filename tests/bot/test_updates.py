"""The update ledger and the isolation key builder, in memory and in a real Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation

from bot.updates import (
    KeyedHashKeyBuilder,
    MemoryUpdateLedger,
    RedisUpdateLedger,
    isolation_key,
)
from tests.conftest import REDIS_URL

CHAT = 770_123_456
KEY = StorageKey(bot_id=123456, chat_id=CHAT, user_id=CHAT)


async def test_memory_ledger_takes_an_id_once_and_forgets_the_oldest() -> None:
    ledger = MemoryUpdateLedger(remember=3)
    assert [await ledger.claim(i) for i in (1, 2, 1, 3, 4)] == [True, True, False, True, True]
    assert await ledger.claim(1)  # the oldest was forgotten after three newer ones
    assert not await ledger.claim(4)


async def test_two_processes_racing_for_the_same_updates_each_win_half_never_both(
    redis: tuple[Any, str],
) -> None:
    client, prefix = redis
    other_client = type(client).from_url(REDIS_URL)  # the second process's own connection
    first = RedisUpdateLedger(client, prefix)
    second = RedisUpdateLedger(other_client, prefix)
    ids = range(1000, 1040)
    results = await asyncio.gather(
        *(ledger.claim(i) for i in ids for ledger in (first, second)), return_exceptions=False
    )
    pairs = list(zip(results[::2], results[1::2], strict=True))
    assert all(a != b for a, b in pairs)  # exactly one of the two took each update
    assert not await first.claim(1000)
    # Stored: the update id in the key, a constant as the value, expiring after a day.
    keys = sorted([k.decode() async for k in client.scan_iter(match=f"{prefix}:*")])
    assert keys == sorted(f"{prefix}:update:{i}" for i in ids)
    assert {await client.get(k) for k in keys} == {b"1"}
    ttl = dt.timedelta(seconds=await client.ttl(keys[0]))
    assert dt.timedelta(hours=24) < ttl <= dt.timedelta(hours=25)
    await other_client.aclose()


def test_aiogram_default_lock_key_names_the_chat_ours_does_not() -> None:
    """Why the key builder exists: anyone listing Redis keys would see who is writing."""
    assert str(CHAT) in DefaultKeyBuilder(prefix="speakup:isolation").build(KEY, "lock")
    builder = KeyedHashKeyBuilder(isolation_key(os.urandom(32)), "speakup:isolation")
    name = builder.build(KEY, "lock")
    assert str(CHAT) not in name
    assert name.startswith("speakup:isolation:")
    assert name.endswith(":lock")
    assert builder.build(KEY, "lock") == name  # stable, so every process finds the same lock
    other_chat = StorageKey(bot_id=123456, chat_id=CHAT + 1, user_id=CHAT + 1)
    assert builder.build(other_chat, "lock") != name


def test_the_key_is_keyed_by_the_draft_key_not_a_plain_hash() -> None:
    one, two = isolation_key(os.urandom(32)), isolation_key(os.urandom(32))
    assert KeyedHashKeyBuilder(one, "p").build(KEY) != KeyedHashKeyBuilder(two, "p").build(KEY)
    draft_key = os.urandom(32)
    assert isolation_key(draft_key) == isolation_key(draft_key)
    assert isolation_key(draft_key) != draft_key  # derived: the draft key itself is not reused


async def test_isolation_in_redis_holds_one_chat_across_processes_under_a_hashed_name(
    redis: tuple[Any, str],
) -> None:
    client, prefix = redis
    other_client = type(client).from_url(REDIS_URL)
    key = isolation_key(os.urandom(32))  # both processes derive it from the same draft key
    first = RedisEventIsolation(client, key_builder=KeyedHashKeyBuilder(key, f"{prefix}:iso"))
    second = RedisEventIsolation(
        other_client, key_builder=KeyedHashKeyBuilder(key, f"{prefix}:iso")
    )
    other_chat = StorageKey(bot_id=123456, chat_id=CHAT + 1, user_id=CHAT + 1)
    released = asyncio.Event()

    async def hold() -> None:
        async with first.lock(KEY):
            await released.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.1)
    # While one process handles the chat, Redis names the lock without naming the chat.
    names = [k.decode() async for k in client.scan_iter(match=f"{prefix}:*")]
    assert len(names) == 1
    assert str(CHAT) not in names[0]
    waiting = asyncio.create_task(_enter(second, KEY))
    async with asyncio.timeout(2):
        await _enter(second, other_chat)  # another chat is not held up
    await asyncio.sleep(0.3)
    assert not waiting.done()  # the same chat waits for the other process
    released.set()
    async with asyncio.timeout(5):
        await waiting
    await holder
    await other_client.aclose()


async def _enter(isolation: RedisEventIsolation, key: StorageKey) -> None:
    async with isolation.lock(key):
        pass
