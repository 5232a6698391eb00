"""What the reporter sees with a receipt: the reporter-visible history of their case.

Officers' reporter-visible notes are opened with the reporter key derived from the receipt.
The reporter's own replies are listed as "you replied on this day" without their text: a reply
is sealed to the case key only (like the report), so nothing the bot can derive — not even the
reporter seed a "notify me" link holds — opens what a reporter wrote (P2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.lifecycle import ReporterStatus, Status, reporter_status
from cases.ports import CaseRecord, UnitOfWork
from storage.crypto import keys

REPLY_KIND = "reply"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the history: a status change (with an officer's note, and for "not
    accepted" the fixed reason), or — with `reply` set — the day the reporter replied."""

    status: ReporterStatus
    on: dt.date
    note: str | None
    reason: str | None = None
    reply: bool = False


@dataclass(frozen=True)
class StatusView:
    reference: str
    status: ReporterStatus
    history: tuple[HistoryEntry, ...]


async def read_status(uow: UnitOfWork, case: CaseRecord, reporter_private: bytes) -> StatusView:
    """The case's reporter-visible history, oldest first, as the receipt holder may see it."""
    current = reporter_status(Status(case.status))
    history: list[tuple[int, HistoryEntry]] = []
    for event in await uow.cases.events(case.id):
        note = None
        if event.note_item_id:
            item = await uow.cases.item(event.note_item_id)
            if item is not None and item.sealed_for_reporter is not None:
                note = keys.open_item(
                    reporter_private, case.id, item.kind, item.id, item.sealed_for_reporter
                )
        status = Status(event.status)
        # Leaving `received` is a one-way triage decision, so a case has at most one
        # not-accepted event and the reason on the case row is the one given with it.
        reason = case.not_accepted_reason if status is Status.NOT_ACCEPTED else None
        entry = HistoryEntry(reporter_status(status), event.occurred_on, note, reason)
        history.append((event.position, entry))
    for item in await uow.cases.items(case.id):
        if item.kind == REPLY_KIND:
            # Only that and when: the text is for the officers (sealed to the case key only).
            entry = HistoryEntry(current, item.created_on, None, reply=True)
            history.append((item.position, entry))
    history.sort(key=lambda pair: pair[0])
    return StatusView(case.reference, current, tuple(entry for _, entry in history))
