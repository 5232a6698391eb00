"""Attacks on drafts at rest: whoever reads or writes the FSM store (memory or Redis) must
learn no reporter's id, no draft, no second of a step, and cannot move a draft between chats."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from aiogram.fsm.storage.base import StorageKey

from bot.draft_storage import (
    EXPIRY_GRAIN,
    MemoryBlobStore,
    SealedStorage,
    build_storage,
)
from tests.conftest import REDIS_URL

USER = 7701234567
VICTIM = StorageKey(bot_id=1, chat_id=USER, user_id=USER)
ATTACKER = StorageKey(bot_id=1, chat_id=7709876543, user_id=7709876543)
DRAFT = {"parts": ["我们车间主任收了回扣 secret-words"], "lang": "zh_CN", "department": 0}
STEP = "ReportFlow:writing"
TTL = dt.timedelta(hours=2)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_123.25

    def __call__(self) -> float:
        return self.now


def memory(clock: Clock, key: bytes | None = None) -> tuple[SealedStorage, MemoryBlobStore]:
    store = MemoryBlobStore(clock)
    return SealedStorage(store, key or os.urandom(32), TTL, clock=clock), store


def at_rest(store: MemoryBlobStore) -> bytes:
    """Everything the store holds, names and values, as one byte string."""
    return b"\n".join(name.encode() + b"=" + value for name, (value, _) in store.items.items())


async def test_a_draft_is_sealed_and_expires() -> None:
    clock = Clock()
    storage, store = memory(clock)
    await storage.set_state(VICTIM, STEP)
    await storage.set_data(VICTIM, DRAFT)
    dump = at_rest(store)
    for readable in (b"secret-words", "回扣".encode(), b"ReportFlow", b"writing", b"zh_CN"):
        assert readable not in dump
    assert await storage.get_data(VICTIM) == DRAFT
    assert await storage.get_state(VICTIM) == STEP
    # After the TTL the draft and its step are gone, even before the store drops the record.
    clock.now += TTL.total_seconds() + 1
    assert await storage.get_state(VICTIM) is None
    assert await storage.get_data(VICTIM) == {}


async def test_another_draft_key_cannot_open_a_draft() -> None:
    clock = Clock()
    storage, store = memory(clock)
    await storage.set_data(VICTIM, DRAFT)
    thief = SealedStorage(store, os.urandom(32), TTL, clock=clock)
    assert await thief.get_data(VICTIM) == {}


async def test_a_draft_copied_to_the_attackers_chat_does_not_open() -> None:
    """With write access to the store, an attacker copies a victim's record (a receipt in its
    data) under their own conversation's name; the bot must treat it as no draft at all."""
    clock = Clock()
    storage, store = memory(clock)
    await storage.set_state(VICTIM, "StatusFlow:viewing")
    await storage.set_data(VICTIM, {"status_receipt": "1234567890123456"})
    await storage.set_state(ATTACKER, "StatusFlow:receipt")
    victim_name, attacker_name = storage.names.build(VICTIM), storage.names.build(ATTACKER)
    stolen, expires = store.items[victim_name]
    await store.put(attacker_name, stolen, expires)
    assert await storage.get_data(ATTACKER) == {}
    assert await storage.get_state(ATTACKER) is None
    # The victim's own draft is untouched.
    assert (await storage.get_data(VICTIM))["status_receipt"] == "1234567890123456"


async def test_no_id_and_no_second_at_rest() -> None:
    clock = Clock()
    storage, store = memory(clock)
    await storage.set_state(VICTIM, STEP)
    await storage.set_data(VICTIM, DRAFT)
    dump = at_rest(store)
    assert str(USER).encode() not in dump
    assert USER.to_bytes(8, "big").lstrip(b"\0") not in dump
    # Neither the expiry nor the moment of the write, in any plain form.
    exact = clock.now + TTL.total_seconds()
    for moment in (exact, clock.now):
        assert str(int(moment)).encode() not in dump
        assert str(int(moment))[:7].encode() not in dump
    assert b"exp" not in dump
    # The store's own expiry is a whole window, not the second of the step.
    [(_, expires)] = store.items.values()
    assert expires % EXPIRY_GRAIN == 0
    assert exact <= expires < exact + EXPIRY_GRAIN


async def test_ending_a_conversation_leaves_no_record() -> None:
    """What aiogram's `state.clear()` and a reset to an untouched conversation do: deleted,
    not rewritten empty, so touching the bot does not list a reporter for the next two hours."""
    clock = Clock()
    storage, store = memory(clock)
    await storage.set_state(VICTIM, STEP)
    await storage.set_data(VICTIM, DRAFT)
    await storage.set_state(VICTIM, None)
    await storage.set_data(VICTIM, {})
    assert store.items == {}
    # A fresh conversation's defaults (nothing chosen, nothing written) are no record either.
    await storage.set_data(VICTIM, {"lang": None, "parts": [], "forwarded_warned": False})
    assert store.items == {}
    # The first department (index 0) is a choice worth keeping, though.
    await storage.set_data(VICTIM, {"department": 0})
    assert await storage.get_data(VICTIM) == {"department": 0}


async def test_a_restarted_process_without_a_configured_key_finds_nothing() -> None:
    clock = Clock()
    first = build_storage("", None, TTL, clock=clock)
    await first.set_data(VICTIM, DRAFT)
    second = SealedStorage(first.store, os.urandom(32), TTL, clock=clock)
    assert second.names.build(VICTIM) != first.names.build(VICTIM)
    assert await second.get_data(VICTIM) == {}


async def test_redis_draft_is_hashed_sealed_expiring_and_survives_a_restart(
    redis: tuple[Any, str],
) -> None:
    client, redis_prefix = redis
    key = os.urandom(32)
    storage = build_storage(REDIS_URL, key, TTL, redis_prefix)
    await storage.set_state(VICTIM, STEP)
    await storage.set_data(VICTIM, DRAFT)
    await storage.close()
    names = [k async for k in client.scan_iter(f"{redis_prefix}:*")]
    assert len(names) == 1
    for name in names:
        assert str(USER).encode() not in name
        assert 0 < await client.ttl(name) <= TTL.total_seconds() + EXPIRY_GRAIN
        # The absolute expiry Redis keeps (and writes to its dump) is a whole window.
        if int((await client.info("server"))["redis_version"].split(".")[0]) >= 7:
            assert await client.pexpiretime(name) % (EXPIRY_GRAIN * 1000) == 0
        value = await client.get(name) or b""
        for readable in (b"secret-words", str(USER).encode(), b"ReportFlow", b"exp"):
            assert readable not in value
    # A new process with the same draft key resumes the draft.
    again = build_storage(REDIS_URL, key, TTL, redis_prefix)
    try:
        assert await again.get_state(VICTIM) == STEP
        assert await again.get_data(VICTIM) == DRAFT
        # The reporter cancels: the record goes.
        await again.set_state(VICTIM, None)
        await again.set_data(VICTIM, {})
        assert [k async for k in client.scan_iter(f"{redis_prefix}:*")] == []
    finally:
        await again.close()


async def test_redis_draft_copied_under_another_name_does_not_open(
    redis: tuple[Any, str],
) -> None:
    client, redis_prefix = redis
    storage = build_storage(REDIS_URL, os.urandom(32), TTL, redis_prefix)
    try:
        await storage.set_data(VICTIM, {"status_receipt": "1234567890123456"})
        stolen = await client.get(storage.names.build(VICTIM))
        await client.set(storage.names.build(ATTACKER), stolen, ex=60)
        assert await storage.get_data(ATTACKER) == {}
        assert await storage.get_state(ATTACKER) is None
    finally:
        await storage.close()
