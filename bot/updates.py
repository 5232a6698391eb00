"""Each update once, one at a time per chat — also across several bot processes (DESIGN §8, §9).

Telegram redelivers an update when a webhook answer is lost or late, and a load balancer may
hand the two deliveries to two different bot processes. The ledger here remembers which
update ids were taken: in process memory by default, in Redis (shared by every process) when
one is configured. The key builder names the per-chat isolation locks in Redis by a keyed
hash, so no Redis key carries a chat or user id in clear (P1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from aiogram.fsm.storage.base import KeyBuilder, StorageKey

from bot.expiry import expiry_at
from storage.crypto.primitives import hkdf

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Telegram keeps an undelivered update for 24 hours; a little more covers the last retry.
LEDGER_TTL = dt.timedelta(hours=25)


class UpdateLedger(Protocol):
    """Remembers which update ids were taken for processing."""

    async def claim(self, update_id: int) -> bool:
        """True the first time `update_id` is claimed, False for any later delivery of it."""
        ...


class MemoryUpdateLedger:
    """The ledger of one process: the most recent `remember` update ids."""

    def __init__(self, remember: int = 10_000) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._remember = remember

    async def claim(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return True


class RedisUpdateLedger:
    """A ledger every bot process shares: one `SET NX` with an expiry per update id.

    The key holds the update id and the value is a constant: an update id is Telegram's
    sequence number for the bot, not an identifier of a person, and nothing else is stored.
    The expiry is absolute and rounded up to `EXPIRY_GRAIN`: "expire in 25 hours" would let
    a dump of Redis date each update's arrival to the millisecond (P8).
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        ttl: dt.timedelta = LEDGER_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:update"
        self._ttl = ttl.total_seconds()
        self._clock = clock

    async def claim(self, update_id: int) -> bool:
        # SET NX is atomic in Redis: of two processes given the same update, exactly one wins.
        expires = expiry_at(self._clock() + self._ttl)
        taken = await self._redis.set(f"{self._prefix}:{update_id}", b"1", nx=True, exat=expires)
        return bool(taken)


class KeyedHashKeyBuilder(KeyBuilder):
    """Redis key names for per-chat records that do not reveal the chat (P1).

    aiogram's DefaultKeyBuilder writes `prefix:chat_id:user_id:part`, so anyone who can list
    Redis keys sees who is talking to the bot right now. Here the whole storage key is
    HMAC-SHA256'd under a secret key; a plain hash would not do, because chat ids are few
    enough to try them all.
    """

    def __init__(self, key: bytes, prefix: str) -> None:
        self._key = key
        self._prefix = prefix

    def build(
        self,
        key: StorageKey,
        part: Literal["data", "state", "lock"] | None = None,
    ) -> str:
        fields = [
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id,
            key.business_connection_id,
            key.destiny,
        ]
        digest = hmac.new(self._key, json.dumps(fields).encode(), hashlib.sha256).hexdigest()
        return f"{self._prefix}:{digest}:{part}" if part else f"{self._prefix}:{digest}"


def isolation_key(draft_key: bytes) -> bytes:
    """The key naming isolation locks, derived from the draft key every bot process shares."""
    return hkdf(draft_key, "isolation-key")
