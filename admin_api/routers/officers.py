"""Officer accounts (administrators only) and queue membership (queue members only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from admin_api.deps import OfficerDep, ServicesDep, SessionsDep
from admin_api.schemas import ErrorOut
from admin_api.schemas_admin import (
    GrantIn,
    MemberOut,
    OfficerAccountOut,
    OfficerCreateIn,
    OfficerPatchIn,
    PasswordResetIn,
)
from cases.accounts import OfficerView
from cases.categories import Queue
from cases.membership import MemberView

router = APIRouter(tags=["officers"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)
}


def _account(officer: OfficerView) -> OfficerAccountOut:
    return OfficerAccountOut(
        username=officer.username,
        role=officer.role,
        disabled=officer.disabled,
        totp_enrolled=officer.totp_enrolled,
        queues=list(officer.queues),
        activated=officer.activated,
    )


def _member(member: MemberView) -> MemberOut:
    return MemberOut(
        username=member.username, granted_at=member.granted_at, expires_at=member.expires_at
    )


@router.get("/officers", responses=ERRORS)
async def list_officers(session: OfficerDep, services: ServicesDep) -> list[OfficerAccountOut]:
    return [_account(o) for o in await services.accounts.list_officers(session)]


@router.post("/officers", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def create_officer(
    body: OfficerCreateIn, session: OfficerDep, services: ServicesDep
) -> OfficerAccountOut:
    """A new account under an initial password. It is not activated until the officer logs in
    and chooses their own password; only then can a member grant it a queue."""
    return _account(
        await services.accounts.create(session, body.username, body.role, body.password)
    )


@router.patch("/officers/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def update_officer(
    username: str,
    body: OfficerPatchIn,
    session: OfficerDep,
    services: ServicesDep,
    sessions: SessionsDep,
) -> None:
    """Disable, re-enable, or change the role (which removes the officer's queue grants)."""
    if body.role is not None:
        sessions.close_officer(await services.accounts.set_role(session, username, body.role))
    if body.disabled is not None:
        officer_id = await services.accounts.set_disabled(session, username, body.disabled)
        if body.disabled:
            sessions.close_officer(officer_id)


@router.post(
    "/officers/{username}/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
)
async def reset_password(
    username: str,
    body: PasswordResetIn,
    session: OfficerDep,
    services: ServicesDep,
    sessions: SessionsDep,
) -> None:
    """A new initial password: the account is not activated again (own password, new key and
    authenticator at next login), and holds no queue key until re-granted."""
    sessions.close_officer(await services.accounts.reset_password(session, username, body.password))


@router.get("/queues/{queue}/members", responses=ERRORS)
async def members(queue: Queue, session: OfficerDep, services: ServicesDep) -> list[MemberOut]:
    return [_member(m) for m in await services.membership.members(session, queue)]


@router.post("/queues/{queue}/members", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def grant(
    queue: Queue, body: GrantIn, session: OfficerDep, services: ServicesDep
) -> MemberOut:
    """Seal this queue's key (from your session) to another officer, optionally until a time.

    The officer must have activated their account, and `fingerprint` must be their key's, as
    they read it to you: otherwise 409 `officer_not_activated` or `fingerprint_mismatch`."""
    return _member(
        await services.membership.grant(
            session, queue, body.username, body.fingerprint, body.expires_at
        )
    )


@router.delete(
    "/queues/{queue}/members/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
)
async def revoke(
    queue: Queue, username: str, session: OfficerDep, services: ServicesDep, sessions: SessionsDep
) -> None:
    officer_id = await services.membership.revoke(session, queue, username)
    sessions.drop_queue(officer_id, queue)
