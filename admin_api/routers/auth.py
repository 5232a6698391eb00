"""Login (password + TOTP), first-login enrolment, password change, logout, who am I."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, status

from admin_api.deps import BearerDep, EnrollingDep, OfficerDep, ServicesDep, SessionsDep
from admin_api.schemas import ErrorOut, LoginIn, LoginOut, OfficerOut
from admin_api.schemas_admin import (
    EnrolmentOut,
    MeOut,
    PasswordChangeIn,
    PasswordChangeOut,
    TotpConfirmIn,
)
from cases.officers import OfficerSession

router = APIRouter(prefix="/auth", tags=["auth"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 409, 422, 429)
}


def _officer_out(session: OfficerSession) -> OfficerOut:
    return OfficerOut(
        username=session.username, role=session.role, queues=sorted(session.queue_keys)
    )


@router.post("/login", responses=ERRORS)
async def login(body: LoginIn, services: ServicesDep, sessions: SessionsDep) -> LoginOut:
    """Password and TOTP code. On a first login (with the initial password an administrator
    set) `enrolment_required` is true: the token may only activate the account — `POST
    /auth/totp`, then `POST /auth/totp/confirm` with a code and your own password."""
    session = await services.auth.login(body.username, body.password, body.totp)
    token, expires_at = sessions.open(session)
    return LoginOut(
        token=token,
        expires_at=expires_at,
        officer=_officer_out(session),
        enrolment_required=session.enrolment_pending,
        activated_at=session.activated_at,
        first_login_since_activation=session.first_login_since_activation,
    )


@router.post("/totp", responses=ERRORS)
async def begin_enrolment(session: EnrollingDep, services: ServicesDep) -> EnrolmentOut:
    """A new TOTP secret as an otpauth URI and a QR code (PNG, base64)."""
    enrolment = services.auth.begin_enrolment(session)
    return EnrolmentOut(
        secret=enrolment.secret,
        otpauth_uri=enrolment.uri,
        qr_png_base64=base64.b64encode(enrolment.qr_png).decode(),
    )


@router.post("/totp/confirm", responses=ERRORS)
async def activate(body: TotpConfirmIn, session: EnrollingDep, services: ServicesDep) -> MeOut:
    """Activate the account: a code from the authenticator and a password of your own. A new
    key is made under that password; its fingerprint is returned. The session becomes a full
    one, with no queue yet: log in again after a colleague granted you one."""
    await services.auth.activate(session, body.code, body.new_password)
    return _me(session)


@router.post("/password", responses=ERRORS)
async def change_password(
    body: PasswordChangeIn,
    session: EnrollingDep,
    services: ServicesDep,
    sessions: SessionsDep,
    credentials: BearerDep,
) -> PasswordChangeOut:
    """A new password and, under it, a NEW key: your grants are re-sealed to it, the old key's
    fingerprint stops matching, and your other sessions end. Returns the new fingerprint — read
    out that one from now on. Three wrong old passwords end this session."""
    rotated = await services.auth.change_password(session, body.old_password, body.new_password)
    if credentials is not None:
        sessions.close_officer(session.officer_id, keep=credentials.credentials)
    return PasswordChangeOut(**_me(session).model_dump(), dropped_queues=list(rotated.dropped))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def logout(_: EnrollingDep, sessions: SessionsDep, credentials: BearerDep) -> None:
    """End the session and wipe its keys."""
    if credentials is not None:
        sessions.close(credentials.credentials)


@router.get("/me", responses=ERRORS)
async def me(session: OfficerDep) -> MeOut:
    """Who you are, your queues, your key fingerprint (to tell whoever grants you a queue) and
    when the account was activated."""
    return _me(session)


def _me(session: OfficerSession) -> MeOut:
    return MeOut(
        **_officer_out(session).model_dump(),
        key_fingerprint=session.key_fingerprint or "",
        activated_at=session.activated_at,
    )
