"""The admin API application factory."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI

from admin_api import errors
from admin_api.deps import refuse_nul_characters
from admin_api.routers import (
    alerts,
    attachments,
    audit,
    auth,
    cases,
    notifications,
    officers,
    stats,
    transfers,
)
from admin_api.sessions import SessionStore
from bot.container import ApiServices
from cases.runtime import Clock, utcnow


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Sweep expired sessions in the background; wipe every session's keys at shutdown."""
    sessions: SessionStore = app.state.sessions
    sweeper = asyncio.create_task(sessions.sweep(app.state.session_sweep), name="session-sweep")
    app.state.session_sweeper = sweeper
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        sessions.close_all()


def create_app(
    services: ApiServices,
    *,
    session_idle: dt.timedelta = dt.timedelta(minutes=30),
    session_absolute: dt.timedelta = dt.timedelta(hours=8),
    session_sweep: dt.timedelta = dt.timedelta(minutes=1),
    session_clock: Clock = utcnow,
) -> FastAPI:
    """A FastAPI app over the given services; sessions live in this app's memory.

    Serve it with the ASGI lifespan on: it runs the sweeper that wipes expired sessions' keys
    every `session_sweep` even when no request arrives.
    """
    app = FastAPI(
        title="SpeakUp admin API",
        version="1",
        description="Officers work cases here. Reporters are anonymous: no endpoint returns "
        "or logs a reporter identifier.",
        lifespan=_lifespan,
    )
    app.state.services = services
    app.state.sessions = SessionStore(session_idle, session_absolute, session_clock)
    app.state.session_sweep = session_sweep
    errors.install(app)
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul_characters)])
    api.include_router(auth.router)
    api.include_router(cases.router)
    api.include_router(attachments.router)
    api.include_router(officers.router)
    api.include_router(audit.router)
    api.include_router(notifications.router)
    api.include_router(transfers.router)
    api.include_router(stats.router)
    api.include_router(alerts.router)
    app.include_router(api)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
