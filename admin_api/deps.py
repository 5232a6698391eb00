"""FastAPI dependencies as `Annotated` aliases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from admin_api.sessions import SessionStore
from bot.container import ApiServices
from cases.errors import EnrolmentRequired, InvalidInput
from cases.officers import OfficerSession

_bearer = HTTPBearer(auto_error=False)


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


def _sessions(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


ServicesDep = Annotated[ApiServices, Depends(_services)]
SessionsDep = Annotated[SessionStore, Depends(_sessions)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _any_session(sessions: SessionsDep, credentials: BearerDep) -> OfficerSession:
    session = sessions.get(credentials.credentials) if credentials else None
    if session is None:
        raise HTTPException(
            401,
            "log in first, or again after the session expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return session


EnrollingDep = Annotated[OfficerSession, Depends(_any_session)]


def _officer(session: EnrollingDep) -> OfficerSession:
    # Until a TOTP authenticator is enrolled, the session may only enrol (or log out).
    if session.enrolment_pending:
        raise EnrolmentRequired("enrol a TOTP authenticator first: POST /api/v1/auth/totp")
    return session


OfficerDep = Annotated[OfficerSession, Depends(_officer)]


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included (no recursion: any depth)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


async def refuse_nul_characters(request: Request) -> None:
    """Refuse U+0000 anywhere in the path, the query or a JSON body: 422 `invalid_input`.

    PostgreSQL text cannot hold it, so a NUL that reached a query (a username, a reference, a
    filter) failed there as a server error. One check for every route, run before the others.
    """
    texts = [str(value) for value in request.path_params.values()]
    texts += [text for pair in request.query_params.multi_items() for text in pair]
    found = any("\x00" in text for text in texts)
    if not found:
        # Any body that parses as JSON, whatever its Content-Type says: FastAPI decides for
        # itself which media types are JSON (case-insensitively, `+json` suffixes, and — in
        # some versions or settings — none at all), and a check keyed on the header missed
        # `application/JSON`. Parsing a body that is not meant as JSON costs little.
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            body = None  # not JSON: FastAPI's own validation answers that
        found = any("\x00" in text for text in _strings(body))
    if found:
        raise InvalidInput("text may not contain NUL (U+0000) characters")
