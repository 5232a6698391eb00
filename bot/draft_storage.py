"""Conversation storage whose data is sealed with the bot's draft key and expires (P9).

aiogram keeps each conversation's data in an FSM storage (memory, or Redis with several bot
processes). What the reporter is writing lives there until it is filed, so it is sealed with
AES-GCM under the draft key before it reaches the storage, and it expires after the draft TTL
whether or not the storage does so itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "sealed"
EXPIRES = "exp"
_NONCE = 12


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


class SealedStorage(BaseStorage):
    """Wraps another storage; the data it passes on is ciphertext plus an expiry time."""

    def __init__(
        self,
        inner: BaseStorage,
        key: bytes,
        ttl: dt.timedelta,
        clock: Callable[[], float] = _now,
    ) -> None:
        self.inner = inner
        self._aead = AESGCM(key)
        self._ttl = ttl.total_seconds()
        self._clock = clock

    def _seal(self, data: Mapping[str, Any]) -> dict[str, Any]:
        # A random nonce per write: the same draft saved twice never repeats a (key, nonce).
        nonce = os.urandom(_NONCE)
        expires = self._clock() + self._ttl
        body = json.dumps({"data": dict(data), EXPIRES: expires}).encode()
        return {SEALED: (nonce + self._aead.encrypt(nonce, body, None)).hex(), EXPIRES: expires}

    async def _open(self, key: StorageKey) -> dict[str, Any] | None:
        """The data, or None if there is none, it expired, or it does not open with our key."""
        raw = await self.inner.get_data(key)
        blob = raw.get(SEALED)
        if not isinstance(blob, str):
            return None
        try:
            packed = bytes.fromhex(blob)
            body = json.loads(self._aead.decrypt(packed[:_NONCE], packed[_NONCE:], None))
        except (ValueError, InvalidTag):
            return None
        if float(body[EXPIRES]) <= self._clock():
            await self.inner.set_state(key, None)
            await self.inner.set_data(key, {})
            return None
        data: dict[str, Any] = body["data"]
        return data

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        await self.inner.set_state(key, state)
        # Any step the reporter takes renews the draft's lifetime.
        data = await self._open(key)
        await self.inner.set_data(key, self._seal(data or {}))

    async def get_state(self, key: StorageKey) -> str | None:
        if await self._open(key) is None:
            await self.inner.set_state(key, None)
            return None
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.inner.set_data(key, self._seal(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return await self._open(key) or {}

    async def close(self) -> None:
        await self.inner.close()


def build_storage(
    redis_url: str, key: bytes | None, ttl: dt.timedelta, prefix: str = "speakup"
) -> SealedStorage:
    """Sealed storage over Redis (keys prefixed, expiring) or memory.

    Without a configured key a fresh one is made per process: drafts then cannot outlive it.
    """
    inner: BaseStorage
    if redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        inner = RedisStorage.from_url(
            redis_url,
            key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm"),
            state_ttl=ttl,
            data_ttl=ttl,
        )
    else:
        inner = MemoryStorage()
    return SealedStorage(inner, key or os.urandom(32), ttl)
