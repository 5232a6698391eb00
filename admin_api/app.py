"""The admin API application factory."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

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
        # The default pages load their script from a CDN: blank offline, and third-party code
        # in the officers' page online. `_docs` serves the same pages from packaged files.
        docs_url=None,
        redoc_url=None,
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

    _docs(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


DOCS_ASSETS = "/docs-assets"
# The pages' own inline bootstrap script aside, everything comes from this server.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the assets the fastapi-offline package ships."""
    assets = resources.files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            # No spec validator badge: it would send the API description to a public service.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page
