"""Login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, status

from admin_api.deps import BearerDep, OfficerDep, ServicesDep, SessionsDep
from admin_api.schemas import ErrorOut, LoginIn, LoginOut, OfficerOut
from cases.officers import OfficerSession

router = APIRouter(prefix="/auth", tags=["auth"])


def _officer_out(session: OfficerSession) -> OfficerOut:
    return OfficerOut(
        username=session.username, role=session.role, queues=sorted(session.queue_keys)
    )


@router.post("/login", responses={401: {"model": ErrorOut}})
async def login(body: LoginIn, services: ServicesDep, sessions: SessionsDep) -> LoginOut:
    """Password login; the session holds the officer's unlocked queue keys in memory."""
    session = await services.auth.login(body.username, body.password)
    token, expires_at = sessions.open(session)
    return LoginOut(token=token, expires_at=expires_at, officer=_officer_out(session))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(_: OfficerDep, sessions: SessionsDep, credentials: BearerDep) -> None:
    """End the session and wipe its keys."""
    if credentials is not None:
        sessions.close(credentials.credentials)


@router.get("/me", responses={401: {"model": ErrorOut}})
async def me(session: OfficerDep) -> OfficerOut:
    return _officer_out(session)
