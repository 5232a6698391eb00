"""Rate limits that remember no chat: counters keyed by a keyed hash whose key rotates daily.

The key is random, lives only in this process's memory and is replaced at each UTC day
boundary, so yesterday's counters cannot be linked to a chat even by someone holding the
whole process state from today (P1). Counters are in memory: one bot process per deployment
unless a shared store is added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass

from cases.runtime import Clock, utcnow


@dataclass(frozen=True)
class Limits:
    reports_per_day: int = 5
    wrong_receipts_per_hour: int = 5
    receipt_checks_per_minute: int = 60
    # Replies and notification changes of one chat: each derives the receipt's key (Argon2).
    followups_per_hour: int = 20


class RateLimiter:
    """Fixed-window counters for reports, wrong receipts, replies and notification changes,
    and (globally) every receipt key derivation."""

    def __init__(self, limits: Limits, clock: Clock = utcnow) -> None:
        self._limits = limits
        self._clock = clock
        self._day: dt.date | None = None
        self._key = b""
        self._counts: dict[str, int] = defaultdict(int)

    def _rotate(self) -> dt.datetime:
        now = self._clock()
        if now.date() != self._day:
            # A new day: a new key, and every counter of the old key forgotten with it.
            self._day, self._key = now.date(), secrets.token_bytes(32)
            self._counts.clear()
        return now

    def _tag(self, kind: str, chat_id: int, window: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{chat_id}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}:{window}:{digest[:32]}"

    def report_possible(self, chat_id: int) -> bool:
        """Whether the chat may still file a report today; counts nothing."""
        self._rotate()
        return self._counts[self._tag("report", chat_id, "day")] < self._limits.reports_per_day

    def report_allowed(self, chat_id: int) -> bool:
        """Count one committed report for the chat; False when the daily cap is reached."""
        self._rotate()
        tag = self._tag("report", chat_id, "day")
        if self._counts[tag] >= self._limits.reports_per_day:
            return False
        self._counts[tag] += 1
        return True

    def receipt_check_allowed(self, chat_id: int) -> str | None:
        """None if a receipt check may run now, else why not ("receipts" or "busy")."""
        now = self._rotate()
        if self._counts[self._tag("wrong", chat_id, f"{now:%H}")] >= (
            self._limits.wrong_receipts_per_hour
        ):
            return "receipts"
        global_tag = f"checks:{now:%H%M}"
        if self._counts[global_tag] >= self._limits.receipt_checks_per_minute:
            return "busy"
        self._counts[global_tag] += 1
        return None

    def followup_allowed(self, chat_id: int) -> str | None:
        """Count one reply or notification change (each runs an Argon2 derivation) if it may
        run now; else why not: "followups" (this chat, this hour) or "busy" (everyone's
        derivations this minute, shared with receipt checks)."""
        now = self._rotate()
        tag = self._tag("followup", chat_id, f"{now:%H}")
        if self._counts[tag] >= self._limits.followups_per_hour:
            return "followups"
        global_tag = f"checks:{now:%H%M}"
        if self._counts[global_tag] >= self._limits.receipt_checks_per_minute:
            return "busy"
        self._counts[global_tag] += 1
        self._counts[tag] += 1
        return None

    def wrong_receipt(self, chat_id: int) -> None:
        now = self._rotate()
        self._counts[self._tag("wrong", chat_id, f"{now:%H}")] += 1
