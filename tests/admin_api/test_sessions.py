"""Session lifetimes: idle and absolute timeouts wipe the unlocked keys (P4), with or without
a request to notice them."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx

from admin_api.app import create_app
from admin_api.sessions import SessionStore
from bot.runner import running
from bot.settings import Settings
from cases.officers import OfficerSession
from tests.factories import PASSWORD, TEST_COST, build_site, initialise_site


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


async def test_idle_session_keys_are_wiped_by_the_sweeper_without_any_request(
    tmp_path: Path,
) -> None:
    """Given an officer logged in over HTTP who then walks away, when the idle timeout passes
    (an injected clock) and no request of anyone arrives, then the app's background sweeper
    has already wiped the session's queue keys."""
    site = await build_site(f"sqlite+aiosqlite:///{tmp_path / 'sweep.db'}")
    clock = Clock()
    app = create_app(
        site.api_services(), session_sweep=dt.timedelta(milliseconds=5), session_clock=clock
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client,
    ):
        body = {"username": "union1", "password": PASSWORD, "totp": site.totp("union1")}
        assert (await client.post("/api/v1/auth/login", json=body)).status_code == 200
        store: SessionStore = app.state.sessions
        [session] = [entry.session for entry in store._entries.values()]
        buffer = session.queue_keys["union"]
        assert any(buffer)
        clock.now += dt.timedelta(minutes=29)
        await asyncio.sleep(0.05)  # several sweeps: not yet idle for 30 minutes
        assert store.count() == 1
        assert any(buffer)
        clock.now += dt.timedelta(minutes=2)
        for _ in range(200):  # no request is made; only the sweeper can end the session
            if store.count() == 0:
                break
            await asyncio.sleep(0.01)
        assert store.count() == 0
        assert not any(buffer)
        assert session.queue_keys == {}
    assert app.state.session_sweeper.done()
    await site.engine.dispose()


async def test_the_api_process_runs_the_sweeper(tmp_path: Path) -> None:
    """`speakup api` serves the app with its lifespan, so the sweeper actually runs there."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        api_port=0,
        kdf_memory_kib=TEST_COST.memory_kib,
        kdf_iterations=TEST_COST.iterations,
        kdf_lanes=TEST_COST.lanes,
        session_sweep_seconds=0.01,
    )
    await initialise_site(settings)
    async with running(settings, with_bot=False, with_api=True) as handle:
        assert handle.app is not None
        sweeper = handle.app.state.session_sweeper
        await asyncio.sleep(0.05)
        assert not sweeper.done()
    assert sweeper.done()
