"""Rate limits (P1, P5) with an injected clock: the global receipt-check cap, the per-chat
wrong-receipt throttle, and the daily rotation of the key that hides which chat a counter is."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from cases.ratelimit import Limits, RateLimiter

CHAT = 770001


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def at(hour: int, minute: int, second: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=dt.UTC)


def test_global_receipt_check_cap_refuses_every_chat_until_the_next_minute() -> None:
    clock = Clock(at(9, 15, 5))
    limiter = RateLimiter(Limits(receipt_checks_per_minute=3), clock)
    assert [limiter.receipt_check_allowed(chat) for chat in (1, 2, 3)] == [None, None, None]
    # The cap is global: a fresh chat and a chat that never guessed wrong are refused alike.
    assert limiter.receipt_check_allowed(4) == "busy"
    assert limiter.receipt_check_allowed(1) == "busy"
    clock.now = at(9, 15, 59)
    assert limiter.receipt_check_allowed(5) == "busy"
    clock.now = at(9, 16, 0)
    assert limiter.receipt_check_allowed(5) is None


def test_wrong_receipts_are_throttled_per_chat_for_the_hour() -> None:
    clock = Clock(at(9, 0))
    limiter = RateLimiter(Limits(wrong_receipts_per_hour=2, receipt_checks_per_minute=100), clock)
    for _ in range(2):
        assert limiter.receipt_check_allowed(CHAT) is None
        limiter.wrong_receipt(CHAT)
    assert limiter.receipt_check_allowed(CHAT) == "receipts"
    assert limiter.receipt_check_allowed(CHAT + 1) is None  # another chat is not affected
    clock.now = at(9, 59, 59)
    assert limiter.receipt_check_allowed(CHAT) == "receipts"
    clock.now = at(10, 0)
    assert limiter.receipt_check_allowed(CHAT) is None


def _snapshot(limiter: RateLimiter) -> tuple[bytes, set[str]]:
    """Everything the limiter keeps: its key and its counter tags (as a memory dump shows)."""
    return bytes(limiter._key), set(limiter._counts)


def _tag_for(key: bytes, kind: str, chat_id: int) -> str:
    """The attacker's guess: the tag a chat's counter would have under `key`."""
    return hmac.new(key, f"{kind}:{chat_id}".encode(), hashlib.sha256).hexdigest()[:32]


def test_the_key_rotates_at_midnight_utc_and_yesterday_cannot_be_linked_to_a_chat() -> None:
    """Given a reporter who guessed wrong receipts yesterday, when someone takes today's whole
    limiter state (key and counters) and tries every chat id they suspect, then nothing links
    that chat to yesterday: yesterday's counters are gone, and today's key gives other tags."""
    clock = Clock(at(23, 59, 58, day=2))
    limiter = RateLimiter(Limits(wrong_receipts_per_hour=1), clock)
    assert limiter.receipt_check_allowed(CHAT) is None
    limiter.wrong_receipt(CHAT)
    assert limiter.receipt_check_allowed(CHAT) == "receipts"
    yesterday_key, yesterday_tags = _snapshot(limiter)
    # No counter names the chat in clear; each is a keyed hash of it.
    assert not any(str(CHAT) in tag for tag in yesterday_tags)
    assert any(_tag_for(yesterday_key, "wrong", CHAT) in tag for tag in yesterday_tags)

    clock.now = at(0, 0, 0, day=3)
    assert limiter.receipt_check_allowed(CHAT) is None  # a new day: the throttle starts afresh
    today_key, today_tags = _snapshot(limiter)
    assert today_key != yesterday_key
    assert len(today_key) == 32
    assert not any(tag in today_tags for tag in yesterday_tags if tag.startswith("wrong"))
    # Today's key does not reproduce yesterday's tag for the chat.
    assert not any(_tag_for(today_key, "wrong", CHAT) in tag for tag in yesterday_tags)

    # Within the day the key stays put, so counting works.
    clock.now = at(12, 0, 0, day=3)
    limiter.wrong_receipt(CHAT)
    assert bytes(limiter._key) == today_key
    assert limiter.receipt_check_allowed(CHAT) == "receipts"


def test_the_key_is_random_not_derived_from_the_day() -> None:
    """Two processes on the same day hash the same chat differently: the key comes from the
    OS random source, so nobody can recompute it from the date."""
    clock = Clock(at(9, 0))
    first, second = RateLimiter(Limits(), clock), RateLimiter(Limits(), clock)
    for limiter in (first, second):
        limiter.wrong_receipt(CHAT)
    assert _snapshot(first)[1].isdisjoint(_snapshot(second)[1])


def test_the_daily_report_cap_is_per_chat_and_resets_with_the_day() -> None:
    clock = Clock(at(8, 0))
    limiter = RateLimiter(Limits(reports_per_day=2), clock)
    assert [limiter.report_allowed(CHAT) for _ in range(3)] == [True, True, False]
    assert limiter.report_allowed(CHAT + 1)
    clock.now = at(8, 0, day=3)
    assert limiter.report_allowed(CHAT)


def test_replies_and_notification_changes_are_capped_per_chat_for_the_hour() -> None:
    """Given a chat that spends its hourly allowance of replies and notification changes,
    when it sends one more, then it is refused before any key derivation; another chat is
    not affected, and the next hour starts afresh."""
    clock = Clock(at(9, 0))
    limiter = RateLimiter(Limits(followups_per_hour=3, receipt_checks_per_minute=100), clock)
    assert [limiter.followup_allowed(CHAT) for _ in range(3)] == [None, None, None]
    assert limiter.followup_allowed(CHAT) == "followups"
    assert limiter.followup_allowed(CHAT + 1) is None
    # Wrong receipts and followups are separate allowances.
    assert limiter.receipt_check_allowed(CHAT) is None
    clock.now = at(9, 59, 59)
    assert limiter.followup_allowed(CHAT) == "followups"
    clock.now = at(10, 0)
    assert limiter.followup_allowed(CHAT) is None


def test_followups_share_the_global_derivation_cap_with_receipt_checks() -> None:
    """Given many chats replying at once, when the minute's derivations are spent by receipt
    checks and replies together, then both are refused as "busy" until the next minute."""
    clock = Clock(at(9, 15, 5))
    limiter = RateLimiter(Limits(receipt_checks_per_minute=4, followups_per_hour=100), clock)
    assert limiter.receipt_check_allowed(1) is None
    assert [limiter.followup_allowed(chat) for chat in (2, 3, 4)] == [None, None, None]
    assert limiter.followup_allowed(5) == "busy"
    assert limiter.receipt_check_allowed(6) == "busy"
    # A refused followup counted nothing: the chat's own allowance is untouched.
    clock.now = at(9, 16, 0)
    assert [limiter.followup_allowed(5) for _ in range(4)] == [None] * 4
