"""Request and response bodies. Nothing here can carry a reporter identifier."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, computed_field

from cases.categories import NotAcceptedReason, Routing, Severity
from cases.danger import Danger, UrgentSource, reporter_answer, urgent_source
from cases.lifecycle import Status


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=16, description="6-digit TOTP code")


class OfficerOut(BaseModel):
    username: str
    role: str
    queues: list[str]


class LoginOut(BaseModel):
    token: str
    expires_at: dt.datetime
    officer: OfficerOut
    # True on a first login: the token may only enrol a TOTP authenticator.
    enrolment_required: bool = False
    activated_at: dt.datetime | None = Field(
        default=None, description="when the account got its own password and key; null before"
    )
    first_login_since_activation: bool = Field(
        default=False,
        description="true when nobody has logged in since the account was activated. If you "
        "did not activate it yourself (choose your own password and scan a new QR code), "
        "someone else did: change your password at once, then report it",
    )


class CaseSummaryOut(BaseModel):
    reference: str
    category: str
    severity: str
    status: str
    routing: str
    holders: list[str]
    received_on: dt.date
    reporter_unreachable: bool
    due_on: dt.date | None = None
    overdue: bool = False
    disposition: str | None = None
    rectification_due_on: dt.date | None = None
    look_back_failures: int = 0
    closed_on: dt.date | None = None
    deadline: str | None = Field(
        default=None,
        description="which deadline due_on is: triage, feedback, handling, rectification, "
        "look_back",
    )
    overdue_reasons: list[str] = Field(
        default_factory=list,
        description="every deadline missed: acceptance_notice, triage, feedback, handling, "
        "rectification, look_back",
    )


class ItemOut(BaseModel):
    kind: str
    text: str
    on: dt.date
    officer_id: str | None
    reporter_visible: bool


class EventOut(BaseModel):
    status: str
    reporter_status: str
    on: dt.date
    officer_id: str | None
    note: str | None


class IntakeOut(BaseModel):
    """Recusal, the rules engine's suggestion and the reporter's danger answer at intake
    (metadata, no content)."""

    involves_handler: str | None
    handler_route: str | None
    suggested_category: str | None
    suggested_routing: str | None
    urgent: bool = Field(description="the rules' urgent flag (see urgent_source)")
    rules: list[str] = Field(
        description="ids of the rules that fired, and reporter:danger=<answer> for the reporter's"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reporter_danger(self) -> Danger | None:
        """The reporter's answer to "is anyone in danger right now?"; null if not asked."""
        return reporter_answer(self.rules)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def urgent_source(self) -> UrgentSource | None:
        """Who made the case urgent at intake: reporter, rules or both; null if neither."""
        return urgent_source(rules_urgent=self.urgent, rules=self.rules)


class CaseDetailOut(BaseModel):
    case: CaseSummaryOut
    not_accepted_reason: str | None
    report: str
    items: list[ItemOut]
    history: list[EventOut]
    intake: IntakeOut | None = None


class TriageIn(BaseModel):
    """Either `routing`, or `not_accepted_reason`; the note is shown to the reporter."""

    routing: Routing | None = None
    not_accepted_reason: NotAcceptedReason | None = None
    category: str | None = None
    severity: Severity | None = None
    note: str | None = Field(default=None, max_length=4000)


class StatusIn(BaseModel):
    """A move that needs nothing more: accepted → in_progress, in_progress ⇄ waiting_reporter,
    rectification → look_back. Any other status is refused with 409, and `via` names the
    request that makes it (close, rectification, look-back, reopen, triage)."""

    status: Status
    note: str | None = Field(default=None, max_length=4000)


class ErrorOut(BaseModel):
    code: str
    message: str
    allowed: list[str] | None = None
    # With `allowed`: for each allowed status, the request under /cases/{reference}/ making it.
    via: dict[str, str] | None = None
    retry_after: int | None = None
