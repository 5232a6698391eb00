"""The officers' side of a case: list, read (audited), triage; the helpers every step uses.

Every decrypting path goes through `_open_case_key`, which can only succeed with the private
key of a queue that holds the case (P3): a missing access check elsewhere still cannot read.
New items are sealed to the public key derived from that key, checked against the stored
column (`cases.case_keys`).

Every request that changes a case claims it with `_claim` before any other write: a
compare-and-set on the status it was judged on, so of two officers acting at once exactly one
goes through and the other meets the refusal it would have met a moment later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from cases.attachments import ATTACHMENT_KIND, describe, open_attachment
from cases.audit import record_denied
from cases.case_keys import checked_public, held_case_key, parked_case_key
from cases.case_views import (
    CaseDetail,
    CaseSummary,
    EventView,
    ItemView,
    TriageDecision,
    summary_row,
)
from cases.categories import CATEGORIES, Queue, Routing
from cases.deadlines import DeadlinePolicy, Deadlines, due_fields, feedback_given
from cases.errors import Conflict, DecryptionError, InvalidInput, NotFound
from cases.intake import NOTE_KIND, REPORT_KIND
from cases.lifecycle import Status, Step, check_step, reporter_status
from cases.officers import OfficerSession
from cases.ports import (
    CaseFilter,
    CaseRecord,
    EventRecord,
    ItemRecord,
    UnitOfWork,
    UnitOfWorkFactory,
)
from cases.references import new_id, normalize_reference
from cases.roles import CASEWORK_ROLES, Role, require
from cases.runtime import Clock, utcnow
from storage.crypto import keys

__all__ = [
    "MAX_NOTE_CHARS",
    "CaseDetail",
    "CaseSummary",
    "CaseworkService",
    "EventView",
    "ItemView",
    "TriageDecision",
]

MAX_NOTE_CHARS = 4000


class CaseworkService:
    """Case operations for authenticated officers."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utcnow,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._deadlines = deadlines or Deadlines(DeadlinePolicy())

    def _today(self) -> dt.date:
        return self._clock().date()

    def _summary(self, case: CaseRecord, today: dt.date) -> CaseSummary:
        return summary_row(case, today, self._deadlines)

    def _due_for(
        self, case: CaseRecord, status: Status, *, feedback_given: bool
    ) -> dict[str, object]:
        return due_fields(case, status, self._deadlines, self._today(), feedback_given)

    async def _feedback_given(self, uow: UnitOfWork, case: CaseRecord) -> bool:
        return feedback_given(await uow.cases.events(case.id))

    async def list_cases(
        self,
        session: OfficerSession,
        *,
        queue: str | None = None,
        status: str | None = None,
        category: str | None = None,
        limit: int = 50,
        offset: int = 0,
        severity: str | None = None,
        overdue: bool = False,
        received_from: dt.date | None = None,
        received_to: dt.date | None = None,
        sort: str = "received",
    ) -> list[CaseSummary]:
        """Cases held by the officer's queues (or one of them), newest first. No decryption."""
        require(session.role, CASEWORK_ROLES)
        queues = tuple(q for q in session.queue_keys if queue is None or q == queue)
        today = self._today()
        query = CaseFilter(
            queues,
            self._clock(),
            status,
            category,
            limit,
            offset,
            severity=severity,
            overdue_on=today if overdue else None,
            received_from=received_from,
            received_to=received_to,
            sort=sort,
        )
        async with self._uow() as uow:
            found = await uow.cases.search(query) if queues else []
            rows = [self._summary(c, today) for c in found]
            # Metadata only, but still a view of which cases exist (DESIGN P6); audited even
            # when the filter names a queue the officer does not hold.
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="cases_listed",
                case_reference=None,
                detail=f"{len(rows)} rows",
            )
            await uow.commit()
        return rows

    async def _load(self, uow: UnitOfWork, session: OfficerSession, reference: str) -> CaseRecord:
        case = await uow.cases.by_reference(normalize_reference(reference))
        # A case outside the officer's queues is reported as absent, not forbidden, so its
        # existence is not confirmed to the wrong queue.
        if (
            case is None
            or case.visible_after > self._clock()
            or not set(case.holders) & set(session.queue_keys)
        ):
            await record_denied(uow, self._clock(), session, reference)
            raise NotFound("no such case in your queues")
        return case

    async def _claim(
        self,
        uow: UnitOfWork,
        case: CaseRecord,
        admit: Callable[[CaseRecord], None],
        fields: Mapping[str, object] | None = None,
        guard: Mapping[str, object] | None = None,
    ) -> CaseRecord:
        """Write `fields` only if the case still has the status it was read with (and `guard`,
        e.g. not extended yet); return the case as it now stands.

        `admit` is the check the request passed on the case as read. This is the request's
        first write and a compare-and-set (`CaseRepository.claim`): when another request moved
        the case in between, nothing is written, `admit` runs again on the case as it now is
        and raises what this request would have met had it come second (a 409 with `allowed`
        and `via`, or the step's own Conflict); the caller's transaction then rolls back. Once
        claimed, no other request changes the case until commit, so later reads are current.
        """
        expected = {"status": case.status, **(guard or {})}
        if not await uow.cases.claim(case.id, expected, **(fields or {})):
            current = await uow.cases.by_id(case.id)
            if current is None:  # purged meanwhile
                raise NotFound("no such case in your queues")
            admit(current)
            # Allowed either way, but what this request read has changed (a message written
            # for a status the case no longer has): the officer should look again.
            raise Conflict("the case changed while this request ran; reload it and try again")
        claimed = await uow.cases.by_id(case.id)
        assert claimed is not None  # noqa: S101 - claimed in this transaction
        return claimed

    async def _audit(
        self, uow: UnitOfWork, session: OfficerSession, case: CaseRecord, action: str, detail: str
    ) -> None:
        await uow.audit.append(
            at=self._clock(),
            officer_id=session.officer_id,
            action=action,
            case_reference=case.reference,
            detail=detail,
        )

    async def _add_item(
        self,
        uow: UnitOfWork,
        session: OfficerSession,
        case: CaseRecord,
        kind: str,
        item_id: str,
        text: str,
        case_public: bytes | None = None,
    ) -> None:
        """An officers-only case item, sealed to the case key (checked, see `_case_public`)."""
        if case_public is None:
            case_public = await self._case_public(uow, session, case)
        await uow.cases.add_item(
            ItemRecord(
                id=item_id,
                case_id=case.id,
                position=await uow.cases.next_position(case.id),
                kind=kind,
                sealed=keys.seal_item(case_public, case.id, kind, item_id, text),
                sealed_for_reporter=None,
                officer_id=session.officer_id,
                created_on=self._today(),
            )
        )

    async def _open_case_key(
        self, uow: UnitOfWork, session: OfficerSession, case: CaseRecord
    ) -> bytes:
        """The case private key, opened with any held queue key; the keys decide, not checks.

        Also refuses (DecryptionError) a case whose stored public key is not this key's.
        """
        case_private = await held_case_key(uow, session, case)
        if case_private is None:
            raise DecryptionError("none of your queue keys opens this case")
        checked_public(case, case_private)
        return case_private

    async def _case_public(
        self, uow: UnitOfWork, session: OfficerSession, case: CaseRecord
    ) -> bytes:
        """The public key to seal new items to, derived from a case key this session opens:
        a holding queue's, or one a pending transfer parked for it (`cases.case_keys`)."""
        case_private = await held_case_key(uow, session, case)
        if case_private is None:
            case_private = await parked_case_key(uow, session, case)
        if case_private is None:
            raise DecryptionError("none of your queue keys opens this case")
        return checked_public(case, case_private)

    async def open_case(self, session: OfficerSession, reference: str) -> CaseDetail:
        """Decrypt a case for an officer of a holding queue; every view is audited."""
        require(session.role, CASEWORK_ROLES)
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            detail = await self._decrypt(uow, session, case)
            await self._audit(uow, session, case, "case_viewed", "")
            await uow.commit()
        return detail

    async def decrypt_case(
        self, uow: UnitOfWork, session: OfficerSession, case: CaseRecord
    ) -> CaseDetail:
        """Decrypt without any route-level check; used directly by the P3 attack test."""
        return await self._decrypt(uow, session, case)

    async def _decrypt(
        self, uow: UnitOfWork, session: OfficerSession, case: CaseRecord
    ) -> CaseDetail:
        case_private = await self._open_case_key(uow, session, case)
        items = await uow.cases.items(case.id)
        opened = {
            item.id: (
                describe(open_attachment(case_private, case.id, item.id, item.sealed))
                if item.kind == ATTACHMENT_KIND
                else keys.open_item(case_private, case.id, item.kind, item.id, item.sealed)
            )
            for item in items
        }
        report = next((opened[i.id] for i in items if i.kind == REPORT_KIND), "")
        history = tuple(
            EventView(
                status=e.status,
                reporter_status=reporter_status(Status(e.status)),
                on=e.occurred_on,
                officer_id=e.officer_id,
                note=opened.get(e.note_item_id) if e.note_item_id else None,
            )
            for e in await uow.cases.events(case.id)
        )
        views = tuple(
            ItemView(
                i.kind, opened[i.id], i.created_on, i.officer_id, i.sealed_for_reporter is not None
            )
            for i in items
            if i.kind != REPORT_KIND
        )
        intake = await uow.intake_meta.get(case.id)
        return CaseDetail(
            self._summary(case, self._today()),
            case.not_accepted_reason,
            report,
            views,
            history,
            intake,
        )

    async def triage(
        self, session: OfficerSession, reference: str, decision: TriageDecision
    ) -> CaseSummary:
        """Route a received case to union, discipline or both, or record it as not accepted."""
        require(session.role, frozenset({Role.TRIAGE}))
        if (decision.routing is None) == (decision.not_accepted_reason is None):
            raise InvalidInput("give either a routing or a not-accepted reason")
        if decision.category is not None and decision.category not in CATEGORIES:
            raise InvalidInput("unknown category")
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            if Queue.TRIAGE not in case.holders:
                raise NotFound("no such case in your queues")
            if decision.routing is not None:
                await _check_recusal(uow, case, decision.routing)
            target = Status.ACCEPTED if decision.routing else Status.NOT_ACCEPTED

            def admit(current: CaseRecord) -> None:
                check_step(Status(current.status), target, Step.TRIAGE)

            admit(case)
            fields: dict[str, object] = {"status": target, "updated_at": self._clock()}
            # The decision is the acceptance notice, not yet feedback on the substance.
            fields.update(self._due_for(case, target, feedback_given=False))
            if decision.category:
                fields["category"] = decision.category
            if decision.severity:
                fields["severity"] = decision.severity
            if decision.routing is not None:
                fields["routing"] = decision.routing
            else:
                fields["not_accepted_reason"] = decision.not_accepted_reason
            # Two triage officers deciding at once: only one claim finds the case `received`.
            await self._claim(uow, case, admit, fields)
            # Opened after the claim, so the keys read are the ones this decision replaces.
            case_private = await self._open_case_key(uow, session, case)
            case_public = checked_public(case, case_private)
            if decision.routing is not None:
                # Re-seal the case key to the receiving queue(s); triage's grant goes, so
                # triage officers lose access once the case has moved on.
                publics = {q.name: q.public_key for q in await uow.site.queues()}
                await uow.cases.replace_case_keys(
                    case.id,
                    {
                        q: keys.seal_case_key(case.id, q, publics[q], case_private)
                        for q in decision.routing.queues()
                    },
                )
            await self._record_event(
                uow, session, case, target, decision.note, notify=True, case_public=case_public
            )
            await self._audit(
                uow,
                session,
                case,
                "case_triaged",
                str(decision.routing or f"not_accepted:{decision.not_accepted_reason}"),
            )
            await uow.commit()
            updated = await uow.cases.by_reference(case.reference)
        assert updated is not None  # noqa: S101 - just written in this transaction
        return self._summary(updated, self._today())

    async def _record_event(
        self,
        uow: UnitOfWork,
        session: OfficerSession,
        case: CaseRecord,
        status: Status,
        note: str | None,
        *,
        notify: bool,
        case_public: bytes,
    ) -> None:
        """Append a status event, its reporter-visible note and its outbox row (one transaction).

        `case_public` comes from `_case_public`/`_checked_public`, never from the column alone.
        """
        today = self._clock().date()
        position = await uow.cases.next_position(case.id)
        note_id = None
        if note is not None and note.strip():
            if len(note) > MAX_NOTE_CHARS:
                raise InvalidInput(f"a note may have at most {MAX_NOTE_CHARS} characters")
            note_id = new_id()
            # Sealed twice: to the case key for officers, to the reporter key for the receipt.
            await uow.cases.add_item(
                ItemRecord(
                    id=note_id,
                    case_id=case.id,
                    position=position,
                    kind=NOTE_KIND,
                    sealed=keys.seal_item(case_public, case.id, NOTE_KIND, note_id, note),
                    sealed_for_reporter=keys.seal_item(
                        case.reporter_public_key, case.id, NOTE_KIND, note_id, note
                    ),
                    officer_id=session.officer_id,
                    created_on=today,
                )
            )
            position += 1
        event = EventRecord(new_id(), case.id, position, status, today, session.officer_id, note_id)
        await uow.cases.add_event(event)
        if notify or note_id is not None:
            await uow.outbox.add(case.id, event.id, self._clock())


async def _check_recusal(uow: UnitOfWork, case: CaseRecord, routing: Routing) -> None:
    """DESIGN §4: a case involving a queue's own report handlers never goes to that queue."""
    meta = await uow.intake_meta.get(case.id)
    if meta is not None and meta.involves_handler in {q.value for q in routing.queues()}:
        raise InvalidInput(
            f"this report involves {meta.involves_handler} staff; route it to another queue"
        )
