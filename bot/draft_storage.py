"""Conversation storage that names no one and keeps nothing in the clear (P1, P9).

aiogram keeps each conversation's step and data in an FSM storage (memory, or Redis with
several bot processes). What the reporter is writing lives there until it is filed, so:

- the record's name is a keyed hash of the conversation's ids (`bot.updates`' key builder,
  under a key derived from the draft key), never the ids themselves — a dump of Redis lists
  no Telegram user or chat;
- the step and the data are sealed together with AES-GCM under a key derived from the draft
  key, with the record's name as associated data, so a record copied under another name does
  not open (it reads as no draft at all);
- the exact expiry is inside the seal; the store itself is told a time rounded up to
  `EXPIRY_GRAIN`, so neither a value nor a key's TTL says the second of the reporter's last
  step (which could be matched with when a case was filed);
- a conversation with no step and nothing worth keeping is deleted, not written empty, so
  having touched the bot leaves no record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.expiry import EXPIRY_GRAIN, expiry_at
from bot.updates import KeyedHashKeyBuilder
from storage.crypto.primitives import hkdf

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Sealed bodies are padded to a multiple of this, so a record's size says little of the draft.
_PAD = 512
_NONCE = 12


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


class BlobStore(Protocol):
    """Where sealed records rest: opaque bytes under a name, gone after `expires_at`."""

    async def get(self, name: str) -> bytes | None: ...
    async def put(self, name: str, value: bytes, expires_at: int) -> None: ...
    async def delete(self, name: str) -> None: ...
    async def close(self) -> None: ...


class MemoryBlobStore:
    """In-process records that expire like Redis keys do (one bot process, no Redis)."""

    def __init__(self, clock: Callable[[], float] = _now) -> None:
        self._clock = clock
        self._items: dict[str, tuple[bytes, int]] = {}
        self._swept = 0.0

    @property
    def items(self) -> dict[str, tuple[bytes, int]]:
        """The records as they rest (name → sealed value, expiry) — what a memory dump shows."""
        return dict(self._items)

    async def get(self, name: str) -> bytes | None:
        item = self._items.get(name)
        if item is None or item[1] <= self._clock():
            self._items.pop(name, None)
            return None
        return item[0]

    async def put(self, name: str, value: bytes, expires_at: int) -> None:
        self._sweep()
        self._items[name] = (value, expires_at)

    async def delete(self, name: str) -> None:
        self._items.pop(name, None)

    async def close(self) -> None:
        self._items.clear()

    def _sweep(self) -> None:
        # Abandoned drafts would otherwise stay in memory until the process ends.
        now = self._clock()
        if now - self._swept < EXPIRY_GRAIN:
            return
        self._swept = now
        for name in [n for n, (_, expires) in self._items.items() if expires <= now]:
            del self._items[name]


class RedisBlobStore:
    """Records as Redis strings with an absolute expiry (shared by several bot processes)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, name: str) -> bytes | None:
        value = await self.redis.get(name)
        # The client is not set to decode responses, so a value is always bytes.
        return value if isinstance(value, bytes) else None

    async def put(self, name: str, value: bytes, expires_at: int) -> None:
        await self.redis.set(name, value, exat=expires_at)

    async def delete(self, name: str) -> None:
        await self.redis.delete(name)

    async def close(self) -> None:
        await self.redis.aclose(close_connection_pool=True)


def _blank(value: Any) -> bool:
    # What a fresh conversation holds: nothing chosen, nothing written (0 is a real choice).
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


class SealedStorage(BaseStorage):
    """An aiogram FSM storage over a `BlobStore`: hashed names, one sealed record each."""

    def __init__(
        self,
        store: BlobStore,
        key: bytes,
        ttl: dt.timedelta,
        *,
        prefix: str = "speakup:fsm",
        clock: Callable[[], float] = _now,
    ) -> None:
        self.store = store
        # The same keyed-hash naming as the isolation locks, under a key of its own: with
        # SPEAKUP_DRAFT_KEY set every process (and a restarted one) finds the same record.
        # Names and seals never share a key.
        self.names = KeyedHashKeyBuilder(hkdf(key, "fsm-key"), prefix)
        self._aead = AESGCM(hkdf(key, "fsm-seal"))
        self._ttl = ttl.total_seconds()
        self._clock = clock

    async def _read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """The step and data, or (None, {}) if there is none, it expired or it does not open."""
        name = self.names.build(key)
        packed = await self.store.get(name)
        if packed is None:
            return None, {}
        try:
            body = json.loads(self._aead.decrypt(packed[:_NONCE], packed[_NONCE:], name.encode()))
            expires, state, data = float(body["e"]), body["s"], body["d"]
        except (InvalidTag, ValueError, KeyError, TypeError):
            # Sealed under another key or another name (copied there): as good as expired.
            return None, {}
        if expires <= self._clock() or not isinstance(data, dict):
            return None, {}
        return (state if isinstance(state, str) else None), data

    async def _write(self, key: StorageKey, state: str | None, data: Mapping[str, Any]) -> None:
        name = self.names.build(key)
        if state is None and all(_blank(v) for v in data.values()):
            await self.store.delete(name)
            return
        # Any step the reporter takes renews the draft's lifetime.
        expires = self._clock() + self._ttl
        body = json.dumps({"s": state, "d": dict(data), "e": expires}).encode()
        body += b" " * (-len(body) % _PAD)  # JSON ignores trailing blanks
        # A random nonce per write: the same draft saved twice never repeats a (key, nonce).
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, body, name.encode())
        await self.store.put(name, sealed, expiry_at(expires))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        _, data = await self._read(key)
        await self._write(key, state.state if isinstance(state, State) else state, data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        state, _ = await self._read(key)
        await self._write(key, state, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self._read(key))[1]

    async def close(self) -> None:
        await self.store.close()


def build_storage(
    redis_url: str,
    key: bytes | None,
    ttl: dt.timedelta,
    prefix: str = "speakup",
    clock: Callable[[], float] = _now,
) -> SealedStorage:
    """Sealed storage over Redis (names under `<prefix>:fsm:`, expiring) or memory.

    Without a configured key a fresh one is made per process: drafts then cannot outlive it.
    """
    store: BlobStore
    if redis_url:
        from redis.asyncio import Redis

        store = RedisBlobStore(Redis.from_url(redis_url))
    else:
        store = MemoryBlobStore(clock)
    return SealedStorage(store, key or os.urandom(32), ttl, prefix=f"{prefix}:fsm", clock=clock)
