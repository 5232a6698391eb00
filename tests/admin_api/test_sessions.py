"""Session lifetimes: idle and absolute timeouts wipe the unlocked keys (P4)."""

from __future__ import annotations

import datetime as dt

from admin_api.sessions import SessionStore
from cases.officers import OfficerSession


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _session() -> OfficerSession:
    return OfficerSession("o1", "union1", "union", {"union": bytearray(b"\x07" * 32)})


def test_idle_timeout_expires_and_wipes() -> None:
    clock = Clock()
    store = SessionStore(dt.timedelta(minutes=30), dt.timedelta(hours=8), clock)
    session = _session()
    buffer = session.queue_keys["union"]
    token, _ = store.open(session)
    clock.now += dt.timedelta(minutes=29)
    assert store.get(token) is session  # activity refreshes the idle timer
    clock.now += dt.timedelta(minutes=29)
    assert store.get(token) is session
    clock.now += dt.timedelta(minutes=31)
    assert store.get(token) is None
    assert not any(buffer)


def test_absolute_timeout_holds_despite_activity() -> None:
    clock = Clock()
    store = SessionStore(dt.timedelta(minutes=30), dt.timedelta(hours=8), clock)
    token, expires = store.open(_session())
    assert expires == clock.now + dt.timedelta(hours=8)
    for _ in range(16):
        clock.now += dt.timedelta(minutes=29)
        assert store.get(token) is not None
    clock.now += dt.timedelta(minutes=29)
    assert store.get(token) is None


def test_tokens_are_not_kept_in_the_clear() -> None:
    store = SessionStore(dt.timedelta(minutes=30), dt.timedelta(hours=8))
    token, _ = store.open(_session())
    assert token not in repr(store.__dict__)
