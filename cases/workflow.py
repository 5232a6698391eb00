"""The closed loop after triage: plain status moves, dispositions, rectification, look-back,
closing, reopening, extensions, messages to the reporter and internal notes (DESIGN §4).

Each step is one `_Change` run by `_step`: it checks the move against the lifecycle (which
request makes which transition, `cases.lifecycle.STEPS`), claims the case (a compare-and-set on
the status it checked, `_claim`), proves the session can open the case key (P3), and writes the
case fields, the sealed items, the event, the outbox row and the audit row in one transaction —
so a failure anywhere leaves no trace, two officers acting at once cannot both move the case,
and nothing reaches the reporter that did not happen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cases.case_keys import checked_public
from cases.casework import MAX_NOTE_CHARS, CaseSummary, CaseworkService
from cases.deadlines import FEEDBACK_STATUSES, HANDLING_STATUSES
from cases.dispositions import Disposition, allowed_for
from cases.errors import Conflict, InvalidInput
from cases.lifecycle import Status, Step, check_step, refused, reporter_status
from cases.officers import OfficerSession
from cases.ports import CaseRecord
from cases.references import new_id
from cases.roles import CASEWORK_ROLES, Role, require

INTERNAL_NOTE_KIND = "internal_note"
RECTIFICATION_KIND = "rectification"

Fields = Callable[[CaseRecord], dict[str, object]]


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > MAX_NOTE_CHARS:
        raise InvalidInput(f"{what} may have at most {MAX_NOTE_CHARS} characters")
    return value


def _optional(value: str | None, what: str) -> str | None:
    return _text(value, what) if value is not None and value.strip() else None


@dataclass(frozen=True)
class _Change:
    """One workflow step, as `_step` carries it out."""

    action: str  # the audit action
    step: Step | None = None  # the request, when the step moves the case to `target`
    target: Status | None = None
    expect: frozenset[Status] | None = None  # where a step without a move applies
    what: str = ""  # the step's name in a refusal
    note: str | None = None  # words for the reporter: an event, an outbox row
    items: tuple[tuple[str, str], ...] = ()  # officers-only items (kind, text)
    # Case fields, from the case as read; they may depend only on what the claim compares
    # (the status, and `requires`), because only that is sure not to change before commit.
    fields: Fields | None = None
    detail: Callable[[CaseRecord], str] | str = ""
    # Case fields that must hold besides the status (checked, and compared by the claim), and
    # the Conflict message when they do not.
    requires: Mapping[str, object] = field(default_factory=dict)
    refusal: str = ""


def _admit(change: _Change, case: CaseRecord) -> None:
    """Raise what the step meets on `case`: a 409 naming the allowed moves, or a Conflict."""
    current = Status(case.status)
    if change.target is not None:
        assert change.step is not None  # noqa: S101 - a move always names its request
        check_step(current, change.target, change.step)
    elif change.expect is not None and current not in change.expect:
        needs = " or ".join(sorted(change.expect))
        raise refused(
            current, change.action, f"{change.what} needs a case {needs}; it is {current}"
        )
    if any(getattr(case, name) != value for name, value in change.requires.items()):
        raise Conflict(change.refusal)


def _differing(case: CaseRecord, changes: dict[str, object]) -> dict[str, object]:
    """The changes that change something (a message alone writes no case field)."""
    return {k: v for k, v in changes.items() if getattr(case, k) != v}


class WorkflowService(CaseworkService):
    """Case steps after triage, each refusing what DESIGN §4 does not allow."""

    async def _step(self, session: OfficerSession, reference: str, change: _Change) -> CaseSummary:
        require(session.role, CASEWORK_ROLES)
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            _admit(change, case)
            current = Status(case.status)
            status = change.target or current
            changes = change.fields(case) if change.fields else {}
            if change.target is not None:
                changes["status"] = change.target
            changed = _differing(case, changes)
            if changed:
                changed["updated_at"] = self._clock()
            # The first write. Steps without a move claim too: a message recorded under a
            # status the case just left would contradict the reporter's history.
            claimed = await self._claim(
                uow, case, lambda now: _admit(change, now), changed, change.requires
            )
            # After the claim: the case keys read now are the ones this step commits against.
            case_public = checked_public(case, await self._open_case_key(uow, session, case))
            moved = change.target is not None
            # Anything the reporter reads after the triage decision is substantive feedback.
            speaks = current is not Status.RECEIVED and (
                change.note is not None or (moved and status in FEEDBACK_STATUSES)
            )
            given = speaks or await self._feedback_given(uow, claimed)
            due = _differing(claimed, self._due_for(claimed, status, feedback_given=given))
            if due:
                await uow.cases.update(case.id, updated_at=self._clock(), **due)
            for kind, text in change.items:
                await self._add_item(uow, session, case, kind, new_id(), text, case_public)
            if moved or change.note is not None:
                notify = moved and reporter_status(status) != reporter_status(current)
                await self._record_event(
                    uow, session, case, status, change.note, notify=notify, case_public=case_public
                )
            detail = change.detail(case) if callable(change.detail) else change.detail
            await self._audit(uow, session, case, change.action, detail)
            await uow.commit()
            updated = await uow.cases.by_id(case.id)
        assert updated is not None  # noqa: S101 - just written in this transaction
        return self._summary(updated, self._today())

    def _check_due(self, due_on: dt.date, what: str) -> None:
        """Due dates officers set lie between today and `DeadlinePolicy.max_due_days` ahead."""
        today = self._today()
        if due_on < today:
            raise InvalidInput(f"{what} is in the past")
        if due_on > self._deadlines.latest_due(today):
            days = self._deadlines.policy.max_due_days
            raise InvalidInput(f"{what} may be at most {days} days ahead")

    async def change_status(
        self, session: OfficerSession, reference: str, status: Status, note: str | None
    ) -> CaseSummary:
        """A move that needs nothing more (`Step.STATUS`), with an optional reporter-visible
        note; any other move is refused with 409 naming the request that makes it."""
        return await self._step(
            session,
            reference,
            _Change(
                "status_changed",
                Step.STATUS,
                status,
                note=_optional(note, "the note"),
                detail=lambda case: f"{case.status}->{status}",
            ),
        )

    async def set_disposition(
        self,
        session: OfficerSession,
        reference: str,
        disposition: Disposition,
        note: str | None,
        *,
        reporter_visible: bool = False,
    ) -> CaseSummary:
        """Record how the holding queue disposes of an in-progress case (its own list only).

        The note is internal unless `reporter_visible`: a disposition names the handling
        (谈话函询, 移送审查调查 …), which is the officers' to tell, not a side effect.
        """
        require(session.role, frozenset({Role.UNION, Role.DISCIPLINE}))
        if disposition not in allowed_for(set(session.queue_keys)):
            raise InvalidInput("this disposition is not one of your queue's")
        text = _optional(note, "the note")
        change = _Change(
            "disposition_set",
            expect=frozenset({Status.IN_PROGRESS}),
            what="a disposition",
            note=text if reporter_visible else None,
            items=((INTERNAL_NOTE_KIND, text),) if text and not reporter_visible else (),
            fields=lambda case: {"disposition": disposition},
            detail=disposition,
        )
        return await self._step(session, reference, change)

    async def rectify(
        self,
        session: OfficerSession,
        reference: str,
        owner_unit: str,
        due_on: dt.date,
        note: str | None,
    ) -> CaseSummary:
        """Order rectification by an owner unit until a due date. The unit is sealed content."""
        require(session.role, CASEWORK_ROLES)  # who asks comes before what they ask
        owner_unit = _text(owner_unit, "the owner unit")
        self._check_due(due_on, "the rectification due date")
        change = _Change(
            "rectification_ordered",
            Step.RECTIFICATION,
            Status.RECTIFICATION,
            note=_optional(note, "the note"),
            items=((RECTIFICATION_KIND, owner_unit),),
            fields=lambda case: {"rectification_due_on": due_on},
            detail=due_on.isoformat(),
        )
        return await self._step(session, reference, change)

    async def look_back(
        self,
        session: OfficerSession,
        reference: str,
        *,
        passed: bool,
        note: str | None,
        due_on: dt.date | None = None,
    ) -> CaseSummary:
        """回头看 of a case in look-back: passed closes it (the note is the outcome); failed
        sends it back to rectification, counted, optionally with a new due date."""
        require(session.role, CASEWORK_ROLES)
        if passed:
            if due_on is not None:
                raise InvalidInput("a new due date goes only with a failed look-back")
            outcome = _text(note or "", "the outcome")
            change = _Change("case_closed", Step.LOOK_BACK, Status.CLOSED, note=outcome)
            return await self._step(session, reference, change)
        if due_on is not None:
            self._check_due(due_on, "the rectification due date")

        def failed(case: CaseRecord) -> dict[str, object]:
            fields: dict[str, object] = {"look_back_failures": case.look_back_failures + 1}
            if due_on is not None:
                fields["rectification_due_on"] = due_on
            return fields

        change = _Change(
            "look_back_failed",
            Step.LOOK_BACK,
            Status.RECTIFICATION,
            note=_optional(note, "the note"),
            fields=failed,
            detail=lambda case: str(case.look_back_failures + 1),
        )
        return await self._step(session, reference, change)

    async def close(self, session: OfficerSession, reference: str, outcome: str) -> CaseSummary:
        """Close an in-progress (or not-accepted) case with an outcome text the reporter reads."""
        outcome = _text(outcome, "the outcome")
        change = _Change("case_closed", Step.CLOSE, Status.CLOSED, note=outcome)
        return await self._step(session, reference, change)

    async def reopen(self, session: OfficerSession, reference: str, reason: str) -> CaseSummary:
        """Reopen a closed case; the reason is shown to the reporter."""
        reason = _text(reason, "a reason to reopen")
        change = _Change("case_reopened", Step.REOPEN, Status.IN_PROGRESS, note=reason)
        return await self._step(session, reference, change)

    async def extend(self, session: OfficerSession, reference: str, reason: str) -> CaseSummary:
        """The one extension of the handling deadline, with a reason (internal note)."""
        reason = _text(reason, "a reason to extend")

        def extended(case: CaseRecord) -> dict[str, object]:
            handling = self._deadlines.handling_due(case.received_on, extended=True)
            return {"extended": True, "handling_due_on": handling}

        change = _Change(
            "deadline_extended",
            expect=HANDLING_STATUSES,
            what="an extension of the handling deadline",
            items=((INTERNAL_NOTE_KIND, reason),),
            fields=extended,
            # Two officers extending at once: only one claim finds `extended = false`.
            requires={"extended": False},
            refusal="the handling deadline was extended once already",
            detail=lambda case: self._deadlines.handling_due(
                case.received_on, extended=True
            ).isoformat(),
        )
        return await self._step(session, reference, change)

    async def message(self, session: OfficerSession, reference: str, text: str) -> CaseSummary:
        """A message to the reporter: sealed to the case and reporter keys, sent via outbox."""
        change = _Change("message_sent", note=_text(text, "the message"))
        return await self._step(session, reference, change)

    async def internal_note(self, session: OfficerSession, reference: str, text: str) -> None:
        """A note for officers only: sealed to the case key, never to the reporter's."""
        items = ((INTERNAL_NOTE_KIND, _text(text, "the note")),)
        await self._step(session, reference, _Change("internal_note_added", items=items))
