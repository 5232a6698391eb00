"""Officers link their own Telegram chat for alerts with a one-time code.

The admin API issues a short code (`new_code`); the officer types `/link CODE` in a private
chat with the bot, which stores that chat id for the officer (`link`). Officers are not
anonymous (DESIGN §1), so the chat id is stored plainly — but it is never logged. Codes are
stored only as a hash, expire, and work once; wrong, expired or used codes are throttled per
chat (under a keyed hash whose key rotates daily, like `cases.ratelimit`) and in total.
Issuing a code, linking and unlinking are audited under the officer, never with the chat id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from cases.officers import OfficerSession
from cases.ports_notify import NotifyUnitOfWork, NotifyUnitOfWorkFactory
from cases.runtime import Clock, utcnow

# No 0/O, 1/I/L: the code is read off one screen and typed on another.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def normalize_code(code: str) -> str:
    """What the officer typed, without spaces or dashes, upper-cased."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> bytes:
    """The stored form of a code: a one-time secret with minutes to live needs no KDF."""
    return hashlib.sha256(b"speakup-link:" + normalize_code(code).encode()).digest()


@dataclass(frozen=True)
class LinkCode:
    """A fresh code as shown once to the officer: `ABCD-EFGH`."""

    code: str
    expires_at: dt.datetime


class LinkResult(StrEnum):
    LINKED = "linked"
    INVALID = "invalid"  # wrong, expired or already used: indistinguishable on purpose
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LinkLimits:
    wrong_per_chat_per_hour: int = 5
    wrong_per_hour: int = 100  # all chats together: a code is 8 of 31 characters


class LinkThrottle:
    """Counts wrong codes per chat (keyed hash, rotating key) and overall, per hour."""

    def __init__(self, limits: LinkLimits, clock: Clock = utcnow) -> None:
        self._limits = limits
        self._clock = clock
        self._day: dt.date | None = None
        self._key = b""
        self._counts: dict[str, int] = defaultdict(int)

    def _tags(self, chat_id: int) -> tuple[str, str]:
        now = self._clock()
        if now.date() != self._day:
            self._day, self._key = now.date(), secrets.token_bytes(32)
            self._counts.clear()
        digest = hmac.new(self._key, str(chat_id).encode(), hashlib.sha256).hexdigest()[:32]
        return f"chat:{now:%H}:{digest}", f"all:{now:%H}"

    def allowed(self, chat_id: int) -> bool:
        chat, total = self._tags(chat_id)
        return (
            self._counts[chat] < self._limits.wrong_per_chat_per_hour
            and self._counts[total] < self._limits.wrong_per_hour
        )

    def wrong(self, chat_id: int) -> None:
        for tag in self._tags(chat_id):
            self._counts[tag] += 1


class AlertLinkService:
    """Issue codes (admin API), link and unlink chats (bot and admin API)."""

    def __init__(
        self,
        uow: NotifyUnitOfWorkFactory,
        *,
        ttl: dt.timedelta = dt.timedelta(minutes=10),
        limits: LinkLimits | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self._ttl = ttl
        self._clock = clock
        self.throttle = LinkThrottle(limits or LinkLimits(), clock)

    async def new_code(self, session: OfficerSession) -> LinkCode:
        """A one-time code for the session's officer; it replaces any earlier one."""
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        expires_at = self._clock() + self._ttl
        async with self._uow() as uow:
            await uow.alerts.put_code(hash_code(raw), session.officer_id, expires_at)
            await _audit(uow, self._clock(), session.officer_id, "alert_code_issued")
            await uow.commit()
        return LinkCode(f"{raw[:4]}-{raw[4:]}", expires_at)

    async def unlink(self, session: OfficerSession) -> bool:
        """Stop alerts for the session's officer. False when no chat was linked."""
        async with self._uow() as uow:
            removed = await uow.alerts.unlink_officer(session.officer_id)
            if removed:
                await _audit(uow, self._clock(), session.officer_id, "alert_chat_unlinked")
            await uow.commit()
        return removed

    async def link(self, code: str, chat_id: int, language: str) -> LinkResult:
        """`/link CODE` from a private chat: store the chat for the code's officer."""
        if not self.throttle.allowed(chat_id):
            return LinkResult.THROTTLED
        normalized = normalize_code(code)
        officer_id = None
        if len(normalized) == CODE_LENGTH:
            async with self._uow() as uow:
                officer_id = await uow.alerts.take_code(hash_code(normalized), self._clock())
                if officer_id is not None:
                    await uow.alerts.link_chat(officer_id, chat_id, language, self._clock())
                    # Where an officer's alerts go is theirs to know: a code used from a stolen
                    # session redirects them, and this row is how that shows.
                    await _audit(uow, self._clock(), officer_id, "alert_chat_linked")
                await uow.commit()  # a used or expired code is gone either way
        if officer_id is None:
            self.throttle.wrong(chat_id)
            return LinkResult.INVALID
        return LinkResult.LINKED


async def _audit(uow: NotifyUnitOfWork, at: dt.datetime, officer_id: str, action: str) -> None:
    # The officer only: never the chat id, which says who the officer is on Telegram.
    await uow.audit.append(
        at=at, officer_id=officer_id, action=action, case_reference=None, detail=""
    )
