"""Bodies for accounts, membership, audit, transfers and statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from cases.roles import Role


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_png_base64: str


class TotpConfirmIn(BaseModel):
    code: str = Field(min_length=6, max_length=16)


class PasswordChangeIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class OfficerAccountOut(BaseModel):
    username: str
    role: str
    disabled: bool
    totp_enrolled: bool
    queues: list[str]


class OfficerCreateIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=12, max_length=1024)


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
