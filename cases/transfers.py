"""Clue transfer (线索移交) between the union and discipline queues (DESIGN §4).

The sender, whose queue holds the case, seals the case key to the receiving queue's public key
and parks it on the transfer row. Until the receiving queue accepts, `case_keys` has no row for
it, so its officers cannot open the case (P3) — they read only the sender's feedback text,
sealed to their queue key for this transfer alone. Accepting moves the parked key into
`case_keys` (the receiver becomes a holder, the sender stays one); declining drops it.

A request claims the case like every other change (`CaseworkService._claim`), so two offers of
one case to the same queue cannot both be made; an answer claims the transfer (a
compare-and-set on `pending`), so a transfer is accepted or declined exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from cases.case_keys import checked_public
from cases.casework import CaseworkService
from cases.categories import Queue, Routing
from cases.errors import Conflict, DecryptionError, InvalidInput, NotFound
from cases.lifecycle import Status
from cases.officers import OfficerSession
from cases.ports import CaseRecord, TransferRecord, UnitOfWork
from cases.references import new_id
from cases.roles import Role, require
from cases.workflow import _text
from storage.crypto import keys

TRANSFER_ROLES = frozenset({Role.UNION, Role.DISCIPLINE})
TRANSFER_QUEUES = frozenset({Queue.UNION.value, Queue.DISCIPLINE.value})
FEEDBACK_KIND = "transfer_feedback"
DECLINE_KIND = "transfer_declined"
_NOT_TRANSFERABLE = frozenset({Status.RECEIVED, Status.CLOSED, Status.NOT_ACCEPTED})


class TransferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class TransferView:
    """A transfer as one side sees it: metadata plus the texts that side may open."""

    id: str
    direction: str  # "incoming" or "outgoing", from the viewer's queues
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


class TransferService(CaseworkService):
    """Request, accept, decline and list clue transfers; every step is audited."""

    async def request(
        self,
        session: OfficerSession,
        reference: str,
        to_queue: str,
        feedback: str,
        respond_by: dt.date | None = None,
    ) -> TransferView:
        """Offer a held case to the other queue with a feedback text and a respond-by date."""
        require(session.role, TRANSFER_ROLES)
        feedback = _text(feedback, "the feedback text")
        if to_queue not in TRANSFER_QUEUES:
            raise InvalidInput("a transfer goes to the union or the discipline queue")
        today = self._today()
        respond_by = respond_by or self._deadlines.transfer_respond_by(today)
        if respond_by < today:
            raise InvalidInput("the respond-by date is in the past")
        async with self._uow() as uow:
            case = await self._load(uow, session, reference)
            senders = sorted(
                set(case.holders) & set(session.queue_keys) & TRANSFER_QUEUES - {to_queue}
            )
            if not senders:
                raise InvalidInput("transfer from your own queue to the other one")
            _transferable(case)
            # Claimed first: the holders and pending transfers read below are then current, so
            # two officers offering the case to the same queue at once make one transfer.
            case = await self._claim(uow, case, _transferable)
            if to_queue in case.holders:
                raise Conflict("that queue holds the case already")
            if any(t.to_queue == to_queue for t in await uow.transfers.pending_for_case(case.id)):
                raise Conflict("a transfer to that queue is already waiting")
            meta = await uow.intake_meta.get(case.id)
            if meta is not None and meta.involves_handler == to_queue:
                raise InvalidInput(f"this report involves {to_queue} staff; it cannot go there")
            sender = senders[0]
            queue_private = session.queue_key(sender)
            assert queue_private is not None  # noqa: S101 - sender is among the session's keys
            sealed = (await uow.cases.case_keys(case.id))[sender]
            case_private = keys.open_case_key(case.id, sender, queue_private, sealed)
            receiver_public = {q.name: q.public_key for q in await uow.site.queues()}[to_queue]
            transfer_id, item_id = new_id(), new_id()
            await self._add_item(uow, session, case, FEEDBACK_KIND, item_id, feedback)
            record = TransferRecord(
                id=transfer_id,
                case_id=case.id,
                from_queue=sender,
                to_queue=to_queue,
                status=TransferStatus.PENDING,
                requested_on=today,
                respond_by=respond_by,
                responded_on=None,
                sealed_case_key=keys.seal_case_key(
                    case.id, to_queue, receiver_public, case_private
                ),
                feedback_item_id=item_id,
                reason_item_id=None,
                requested_by=session.officer_id,
                sealed_feedback=keys.seal_item(
                    receiver_public, case.id, FEEDBACK_KIND, transfer_id, feedback
                ),
            )
            await uow.transfers.add(record)
            await self._audit(uow, session, case, "transfer_requested", _audit_detail(record))
            await uow.commit()
        return _view(record, case, "outgoing", today, feedback, None)

    async def accept(self, session: OfficerSession, transfer_id: str) -> TransferView:
        """The receiving queue takes the case: its parked key becomes a holder's key."""
        require(session.role, TRANSFER_ROLES)
        async with self._uow() as uow:
            record, case, queue_private = await self._incoming(uow, session, transfer_id)
            # A case closed (or reopened) since the offer is claimed as it now stands: a closed
            # case is refused rather than handed to a queue with nothing left to do.
            _transferable(case)
            case = await self._claim(uow, case, _transferable)
            assert record.sealed_case_key is not None  # noqa: S101 - pending keeps its key
            # Open the parked key before storing it: a key that does not open is refused here.
            keys.open_case_key(case.id, record.to_queue, queue_private, record.sealed_case_key)
            await self._answer(uow, record, TransferStatus.ACCEPTED)
            case_keys = await uow.cases.case_keys(case.id)
            case_keys[record.to_queue] = record.sealed_case_key
            await uow.cases.replace_case_keys(case.id, case_keys)
            held = set(case_keys) & TRANSFER_QUEUES
            routing = Routing.JOINT if len(held) == 2 else Routing(record.to_queue)
            await uow.cases.update(case.id, routing=routing, updated_at=self._clock())
            await self._audit(uow, session, case, "transfer_accepted", _audit_detail(record))
            await uow.commit()
            feedback = _open_feedback(record, queue_private)
            resolved = await uow.transfers.get(record.id)
        assert resolved is not None  # noqa: S101 - just written
        return _view(resolved, case, "incoming", self._today(), feedback, None)

    async def decline(self, session: OfficerSession, transfer_id: str, reason: str) -> TransferView:
        """The receiving queue refuses with a reason, sealed to the case key for the sender."""
        require(session.role, TRANSFER_ROLES)
        reason = _text(reason, "a reason to decline")
        async with self._uow() as uow:
            record, case, queue_private = await self._incoming(uow, session, transfer_id)
            feedback = _open_feedback(record, queue_private)
            # The reason is sealed with the case key the transfer parked for this queue, as read
            # with the pending transfer: answering drops it from the row.
            assert record.sealed_case_key is not None  # noqa: S101 - pending keeps its key
            case_private = keys.open_case_key(
                case.id, record.to_queue, queue_private, record.sealed_case_key
            )
            case_public = checked_public(case, case_private)
            await self._answer(uow, record, TransferStatus.DECLINED)
            item_id = new_id()
            await self._add_item(uow, session, case, DECLINE_KIND, item_id, reason, case_public)
            await uow.transfers.set_reason(record.id, item_id)
            await self._audit(uow, session, case, "transfer_declined", _audit_detail(record))
            await uow.commit()
            resolved = await uow.transfers.get(record.id)
        assert resolved is not None  # noqa: S101 - just written
        return _view(resolved, case, "incoming", self._today(), feedback, None)

    async def list_transfers(
        self,
        session: OfficerSession,
        *,
        direction: str | None = None,
        status: str | None = None,
        overdue: bool = False,
    ) -> list[TransferView]:
        """Transfers to or from the officer's queues, soonest respond-by first."""
        require(session.role, TRANSFER_ROLES)
        queues = tuple(sorted(set(session.queue_keys) & TRANSFER_QUEUES))
        if not queues:
            return []
        today = self._today()
        views = []
        async with self._uow() as uow:
            for record in await uow.transfers.for_queues(queues, status):
                side = "incoming" if record.to_queue in queues else "outgoing"
                if direction is not None and side != direction:
                    continue
                if overdue and not _overdue(record, today):
                    continue
                case = await uow.cases.by_id(record.case_id)
                if case is None:  # purged by retention
                    continue
                views.append(await self._seen_by(uow, session, record, case, side, today))
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="transfers_listed",
                case_reference=None,
                detail=f"{len(views)} rows",
            )
            await uow.commit()
        return views

    async def _seen_by(
        self,
        uow: UnitOfWork,
        session: OfficerSession,
        record: TransferRecord,
        case: CaseRecord,
        side: str,
        today: dt.date,
    ) -> TransferView:
        """Open what this side may open: the parked feedback, or the case items once held."""
        feedback = reason = None
        queue_private = session.queue_key(record.to_queue)
        if side == "incoming" and queue_private is not None and record.sealed_feedback:
            feedback = _open_feedback(record, queue_private)
        if set(case.holders) & set(session.queue_keys):
            try:
                case_private = await self._open_case_key(uow, session, case)
            except DecryptionError:
                case_private = None
            if case_private is not None:
                opened = {
                    i.id: keys.open_item(case_private, case.id, i.kind, i.id, i.sealed)
                    for i in await uow.cases.items(case.id)
                    if i.id in (record.feedback_item_id, record.reason_item_id)
                }
                feedback = opened.get(record.feedback_item_id, feedback)
                reason = opened.get(record.reason_item_id or "")
        return _view(record, case, side, today, feedback, reason)

    async def _answer(self, uow: UnitOfWork, record: TransferRecord, status: str) -> None:
        """Claim the transfer for this answer, as the first write: only a pending transfer is
        answered, so of two answers at once one goes through and the other is a Conflict."""
        if not await uow.transfers.resolve(record.id, status, self._today()):
            current = await uow.transfers.get(record.id)
            raise Conflict(f"the transfer was {current.status if current else 'withdrawn'} already")

    async def _incoming(
        self, uow: UnitOfWork, session: OfficerSession, transfer_id: str
    ) -> tuple[TransferRecord, CaseRecord, bytes]:
        """A pending transfer addressed to one of the session's queues, with that queue key."""
        record = await uow.transfers.get(transfer_id)
        queue_private = session.queue_key(record.to_queue) if record else None
        case = await uow.cases.by_id(record.case_id) if record else None
        if record is None or queue_private is None or case is None:
            raise NotFound("no such transfer for your queues")
        if record.status != TransferStatus.PENDING:
            raise Conflict(f"the transfer was {record.status} already")
        return record, case, queue_private


def _transferable(case: CaseRecord) -> None:
    if Status(case.status) in _NOT_TRANSFERABLE:
        raise Conflict(f"a {case.status} case cannot be transferred")


def _audit_detail(record: TransferRecord) -> str:
    return f"{record.from_queue}->{record.to_queue} by {record.respond_by.isoformat()}"


def _overdue(record: TransferRecord, today: dt.date) -> bool:
    return record.status == TransferStatus.PENDING and record.respond_by < today


def _open_feedback(record: TransferRecord, queue_private: bytes) -> str | None:
    if record.sealed_feedback is None:
        return None
    return keys.open_item(
        queue_private, record.case_id, FEEDBACK_KIND, record.id, record.sealed_feedback
    )


def _view(
    record: TransferRecord,
    case: CaseRecord,
    side: str,
    today: dt.date,
    feedback: str | None,
    reason: str | None,
) -> TransferView:
    return TransferView(
        id=record.id,
        direction=side,
        reference=case.reference,
        category=case.category,
        severity=case.severity,
        from_queue=record.from_queue,
        to_queue=record.to_queue,
        status=record.status,
        requested_on=record.requested_on,
        respond_by=record.respond_by,
        responded_on=record.responded_on,
        overdue=_overdue(record, today),
        feedback=feedback,
        decline_reason=reason,
    )
