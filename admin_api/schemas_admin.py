"""Bodies for accounts, membership, audit, transfers and statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from admin_api.schemas import OfficerOut
from cases.account_rules import MAX_PASSWORD, MIN_PASSWORD, USERNAME_PATTERN
from cases.roles import Role


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_png_base64: str


class TotpConfirmIn(BaseModel):
    """Activation: a code from the new authenticator and a password of your own."""

    code: str = Field(min_length=6, max_length=16)
    new_password: str = Field(
        min_length=12,
        max_length=1024,
        description="your own password, not the initial one; a new key is made under it",
    )


class MeOut(OfficerOut):
    key_fingerprint: str = Field(
        description="your key's fingerprint: tell it, in person, to the colleague who grants "
        "you a queue; they must enter it for the grant to go through"
    )
    activated_at: dt.datetime | None = Field(
        description="when the account got its own password and key. If that was not you, "
        "change your password before reading out the fingerprint (a change makes a new key)"
    )


class PasswordChangeOut(MeOut):
    """After a password change: the NEW key's fingerprint and the queues re-sealed to it."""

    dropped_queues: list[str] = Field(
        description="grants that no longer opened with your old key and were deleted; ask a "
        "member of that queue to grant it again, to the new fingerprint"
    )


class PasswordChangeIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class OfficerAccountOut(BaseModel):
    username: str
    role: str
    disabled: bool
    totp_enrolled: bool
    queues: list[str]
    activated: bool = Field(
        description="false until the officer chose their own password at first login; "
        "nothing can be granted before"
    )


class OfficerCreateIn(BaseModel):
    username: str = Field(
        pattern=USERNAME_PATTERN,
        description="1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, e.g. li.triage",
    )
    role: Role
    password: str = Field(
        min_length=MIN_PASSWORD,
        max_length=MAX_PASSWORD,
        description="the initial password: the officer replaces it at the first login",
    )


class OfficerPatchIn(BaseModel):
    """Any of: a new role, disabled true/false."""

    role: Role | None = None
    disabled: bool | None = None


class PasswordResetIn(BaseModel):
    password: str = Field(min_length=12, max_length=1024)


class MemberOut(BaseModel):
    username: str
    granted_at: dt.datetime
    expires_at: dt.datetime | None


class GrantIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    fingerprint: str = Field(
        min_length=1,
        max_length=64,
        description="the colleague's key fingerprint as they read it to you from their own "
        "session (GET /auth/me), e.g. 3f2a-9c1e-77b0-d41f-0a5e",
    )
    expires_at: dt.datetime | None = Field(
        default=None, description="end of a time-limited secondment (with time zone)"
    )


class AuditEntryOut(BaseModel):
    id: int
    at: dt.datetime
    officer_id: str | None
    action: str
    case_reference: str | None
    detail: str
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None
    head_hash: str


class TransferIn(BaseModel):
    reference: str = Field(min_length=1, max_length=16)
    to_queue: str = Field(pattern="^(union|discipline)$")
    feedback: str = Field(
        min_length=1, max_length=4000, description="why the clue goes there; required"
    )
    respond_by: dt.date | None = Field(
        default=None, description="default: 5 working days on China's calendar"
    )


class TransferDeclineIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class TransferOut(BaseModel):
    id: str
    direction: str
    reference: str
    category: str
    severity: str
    from_queue: str
    to_queue: str
    status: str
    requested_on: dt.date
    respond_by: dt.date
    responded_on: dt.date | None
    overdue: bool
    feedback: str | None
    decline_reason: str | None


class StatsOut(BaseModel):
    """Counts per cell; `null` marks a cell hidden to protect small groups (P10)."""

    k: int = Field(description="cells under k reports are hidden, with complementary cells")
    as_of: dt.date = Field(
        description="the figures count cases received before this day, the first of the "
        "current month (complete months only); statuses are current"
    )
    total: int | None
    by_queue: dict[str, int | None]
    by_category: dict[str, int | None]
    by_status: dict[str, int | None]
    by_month: dict[str, int | None]
    by_handler_involved: dict[str, int | None] = Field(
        description="reports about report handlers, by the reporter's chosen route"
    )
    closed_within_deadline_share: float | None
    median_days_to_close: float | None
