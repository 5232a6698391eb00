"""Officer sessions: bearer token → unlocked keys, in this process's memory only (P4).

Tokens are stored by their SHA-256 so a memory dump of the table does not yield usable tokens.
Expired or logged-out sessions have their key buffers zeroed: at the next request, and by
`sweep`, which the app runs in the background so an abandoned session's keys do not wait for
one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from cases.officers import OfficerSession
from cases.runtime import Clock, utcnow


@dataclass
class _Entry:
    session: OfficerSession
    created: dt.datetime
    last_seen: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Idle and absolute timeouts; `wipe` on every way out."""

    def __init__(self, idle: dt.timedelta, absolute: dt.timedelta, clock: Clock = utcnow) -> None:
        self._idle = idle
        self._absolute = absolute
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def open(self, session: OfficerSession) -> tuple[str, dt.datetime]:
        """A new bearer token for the session and when it expires at the latest."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._entries[_digest(token)] = _Entry(session, now, now)
        return token, now + self._absolute

    def get(self, token: str) -> OfficerSession | None:
        """The live session for a token, refreshing its idle timer; None if absent or expired."""
        self.expire()
        entry = self._entries.get(_digest(token))
        if entry is None:
            return None
        if entry.session.ended:  # ended by the domain (too many wrong old passwords)
            self.close(token)
            return None
        entry.last_seen = self._clock()
        entry.session.drop_expired(entry.last_seen)
        return entry.session

    def close(self, token: str) -> None:
        entry = self._entries.pop(_digest(token), None)
        if entry is not None:
            entry.session.wipe()

    def expire(self) -> None:
        """End (and wipe) every session past its idle or absolute timeout."""
        now = self._clock()
        for key, entry in list(self._entries.items()):
            stale = now - entry.last_seen > self._idle or now - entry.created > self._absolute
            if stale or entry.session.ended:
                entry.session.wipe()
                del self._entries[key]

    async def sweep(self, every: dt.timedelta) -> None:
        """Expire sessions every `every`, until cancelled. Without it an officer who walks away
        leaves their unlocked keys in memory until somebody's next request."""
        while True:
            await asyncio.sleep(every.total_seconds())
            self.expire()

    def count(self) -> int:
        """How many sessions are open (expired ones included until the next sweep)."""
        return len(self._entries)

    def close_all(self) -> None:
        for entry in self._entries.values():
            entry.session.wipe()
        self._entries.clear()

    def close_officer(self, officer_id: str, keep: str | None = None) -> None:
        """End every session of an officer (disabled, reset, role changed) — but the one of
        the token `keep` (a password change ends the officer's other sessions only)."""
        kept = _digest(keep) if keep is not None else None
        for key, entry in list(self._entries.items()):
            if entry.session.officer_id == officer_id and key != kept:
                entry.session.wipe()
                del self._entries[key]

    def drop_queue(self, officer_id: str, queue: str) -> None:
        """A revoked grant leaves the officer's live sessions at once."""
        for entry in self._entries.values():
            if entry.session.officer_id == officer_id:
                entry.session.drop_queue(queue)
