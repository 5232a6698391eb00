"""The closed loop after triage: dispositions, rectification, look-back, closing, reopening,
extensions, messages to the reporter and internal notes (DESIGN §4).

Every step proves the session can open the case key first (P3), writes its event, outbox row
and audit row in one transaction.
"""

from __future__ import annotations

import datetime as dt

from cases.casework import MAX_NOTE_CHARS, CaseSummary, CaseworkService
from cases.dispositions import Disposition, allowed_for
from cases.errors import Conflict, InvalidInput
from cases.lifecycle import Status, check_transition
from cases.officers import OfficerSession
from cases.ports import CaseRecord
from cases.references import new_id
from cases.roles import CASEWORK_ROLES, Role, require

INTERNAL_NOTE_KIND = "internal_note"
RECTIFICATION_KIND = "rectification"


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > MAX_NOTE_CHARS:
        raise InvalidInput(f"{what} may have at most {MAX_NOTE_CHARS} characters")
    return value


class WorkflowService(CaseworkService):
    """Case steps beyond a plain status change."""

    async def _step(
        self,
        session: OfficerSession,
        reference: str,
        target: Status | None,
        note: str | None,
        action: str,
        detail: str,
        fields: dict[str, object] | None = None,
        *,
        expect: Status | None = None,
    ) -> CaseSummary:
        require(session.role, CASEWORK_ROLES)
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            current = Status(case.status)
            if expect is not None and current is not expect:
                raise Conflict(f"the case must be {expect}, it is {current}")
            await self._open_case_key(uow, session, case)
            changes = dict(fields or {})
            if target is not None and target is not current:
                check_transition(current, target)
                changes.update(self._due_for(_with(case, changes), target), status=target)
            if changes:
                await uow.cases.update(case.id, updated_at=self._clock(), **changes)
            status = target or current
            await self._record_event(uow, session, case, status, note, notify=target is not None)
            await self._audit(uow, session, case, action, detail)
            await uow.commit()
            updated = await uow.cases.by_id(case.id)
        assert updated is not None  # noqa: S101 - just written in this transaction
        return self._summarize(updated)

    def _summarize(self, case: CaseRecord) -> CaseSummary:
        from cases.casework import _summary

        return _summary(case, self._today())

    async def set_disposition(
        self, session: OfficerSession, reference: str, disposition: Disposition, note: str | None
    ) -> CaseSummary:
        """Record how the holding queue disposes of the case (its own list only)."""
        require(session.role, frozenset({Role.UNION, Role.DISCIPLINE}))
        if disposition not in allowed_for(set(session.queue_keys)):
            raise InvalidInput("this disposition is not one of your queue's")
        return await self._step(
            session,
            reference,
            None,
            note,
            "disposition_set",
            disposition,
            {"disposition": disposition},
            expect=Status.IN_PROGRESS,
        )

    async def rectify(
        self,
        session: OfficerSession,
        reference: str,
        owner_unit: str,
        due_on: dt.date,
        note: str | None,
    ) -> CaseSummary:
        """Order rectification by an owner unit until a due date. The unit is sealed content."""
        owner_unit = _text(owner_unit, "the owner unit")
        if due_on < self._today():
            raise InvalidInput("the rectification due date is in the past")
        summary = await self._step(
            session,
            reference,
            Status.RECTIFICATION,
            note,
            "rectification_ordered",
            due_on.isoformat(),
            {"rectification_due_on": due_on},
        )
        await self._seal_item(session, reference, RECTIFICATION_KIND, owner_unit)
        return summary

    async def look_back(
        self, session: OfficerSession, reference: str, *, passed: bool, note: str | None
    ) -> CaseSummary:
        """回头看: passed closes the case; failed sends it back to rectification, counted."""
        require(session.role, CASEWORK_ROLES)
        if passed:
            return await self.close(session, reference, note or "")
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
        return await self._step(
            session,
            reference,
            Status.RECTIFICATION,
            note,
            "look_back_failed",
            str(case.look_back_failures + 1),
            {"look_back_failures": case.look_back_failures + 1},
            expect=Status.LOOK_BACK,
        )

    async def close(self, session: OfficerSession, reference: str, outcome: str) -> CaseSummary:
        """Close with an outcome text the reporter reads."""
        outcome = _text(outcome, "the outcome")
        return await self._step(session, reference, Status.CLOSED, outcome, "case_closed", "")

    async def reopen(self, session: OfficerSession, reference: str, reason: str) -> CaseSummary:
        reason = _text(reason, "a reason to reopen")
        return await self._step(
            session,
            reference,
            Status.IN_PROGRESS,
            reason,
            "case_reopened",
            "",
            expect=Status.CLOSED,
        )

    async def extend(self, session: OfficerSession, reference: str, reason: str) -> CaseSummary:
        """The one extension of the handling deadline, with a reason (internal note)."""
        require(session.role, CASEWORK_ROLES)
        reason = _text(reason, "a reason to extend")
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
        if case.extended:
            raise Conflict("the handling deadline was extended once already")
        handling = self._deadlines.handling_due(case.received_on, extended=True)
        fields: dict[str, object] = {"extended": True, "handling_due_on": handling}
        if Status(case.status) in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING_REPORTER):
            fields["due_on"] = handling
        summary = await self._step(
            session, reference, None, None, "deadline_extended", handling.isoformat(), fields
        )
        await self._seal_item(session, reference, INTERNAL_NOTE_KIND, reason)
        return summary

    async def message(self, session: OfficerSession, reference: str, text: str) -> CaseSummary:
        """A message to the reporter: sealed to the case and reporter keys, sent via outbox."""
        text = _text(text, "the message")
        require(session.role, CASEWORK_ROLES)
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            await self._open_case_key(uow, session, case)
            await self._record_event(uow, session, case, Status(case.status), text, notify=True)
            await self._audit(uow, session, case, "message_sent", "")
            await uow.commit()
        return self._summarize(case)

    async def internal_note(self, session: OfficerSession, reference: str, text: str) -> None:
        """A note for officers only: sealed to the case key, never to the reporter's."""
        await self._seal_item(session, reference, INTERNAL_NOTE_KIND, _text(text, "the note"))

    async def _seal_item(
        self, session: OfficerSession, reference: str, kind: str, text: str
    ) -> None:
        require(session.role, CASEWORK_ROLES)
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            await self._open_case_key(uow, session, case)
            await self._add_item(uow, session, case, kind, new_id(), text)
            await self._audit(uow, session, case, f"{kind}_added", "")
            await uow.commit()


def _with(case: CaseRecord, changes: dict[str, object]) -> CaseRecord:
    """The case as it will be once `changes` are written (for computing its due date)."""
    from dataclasses import replace

    known = {k: v for k, v in changes.items() if k in CaseRecord.__dataclass_fields__}
    return replace(case, **known)  # type: ignore[arg-type]
