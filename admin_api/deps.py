"""FastAPI dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from admin_api.sessions import SessionStore
from bot.container import ApiServices
from cases.errors import EnrolmentRequired
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
