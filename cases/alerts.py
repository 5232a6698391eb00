"""Officer alerts: what is worth an officer's attention, queued in `alert_outbox`.

An alert says which case (its reference), in which queue, how severe and by when — never any
report content and nothing a reporter wrote. Alerts go only to officers who linked a chat
(`cases.alert_links`) and hold a live grant of the queue concerned:

- an urgent case, as soon as it is visible, to the members of every queue holding it (so a case
  triaged urgent to the union alerts the union as well);
- a new case reaching triage once its blur delay (`visible_after`, P8) has passed;
- a transfer request, to the receiving queue's members, found by the same scan (the request is
  made through the admin API, another process);
- a daily digest per officer, at a configured local hour, of the cases in their queues due
  within two working days or overdue (naming the deadlines missed: triage, acceptance notice,
  substantive feedback, handling, rectification, look-back), and of transfer requests to their
  queues whose respond-by date is that close or past.

Each alert has a dedup key (kind, subject, officer), so scanning again never alerts twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from cases.categories import Severity
from cases.deadlines import DeadlinePolicy, Deadlines
from cases.lifecycle import Status
from cases.ports_notify import AlertCase, NotifyUnitOfWork, NotifyUnitOfWorkFactory
from cases.runtime import Clock, utcnow

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    URGENT = "urgent"
    NEW_CASE = "new_case"
    TRANSFER = "transfer"
    DIGEST = "digest"


@dataclass(frozen=True)
class AlertSettings:
    digest_hour: int = 8  # local time, `timezone`
    timezone: str = "Asia/Shanghai"
    digest_working_days: int = 2
    # A case that became visible longer ago than this is no longer "new" (scanner downtime).
    new_case_window: dt.timedelta = dt.timedelta(days=1)


@dataclass(frozen=True)
class TransferAlert:
    """What a transfer request may tell the receiving queue: no feedback or reason text."""

    transfer_id: str
    reference: str
    to_queue: str
    severity: str
    respond_by: dt.date


def _case_payload(case: AlertCase, queue: str, due: dt.date | None) -> str:
    return json.dumps(
        {
            "reference": case.reference,
            "queue": queue,
            "severity": case.severity,
            "due": due.isoformat() if due else None,
        }
    )


def _transfer_alerts(
    transfer: TransferAlert, members: dict[str, list[str]]
) -> list[tuple[str, str, str, str]]:
    payload = json.dumps(
        {
            "reference": transfer.reference,
            "queue": transfer.to_queue,
            "severity": transfer.severity,
            "due": transfer.respond_by.isoformat(),
        }
    )
    return [
        (officer_id, AlertKind.TRANSFER, f"transfer:{transfer.transfer_id}:{officer_id}", payload)
        for officer_id in members.get(transfer.to_queue, [])
    ]


class AlertService:
    """Decides who is alerted about what, and queues it; the notifier sends."""

    def __init__(
        self,
        uow: NotifyUnitOfWorkFactory,
        *,
        settings: AlertSettings | None = None,
        deadlines: Deadlines | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self.settings = settings or AlertSettings()
        self._deadlines = deadlines or Deadlines(DeadlinePolicy())
        self._clock = clock
        self._zone = ZoneInfo(self.settings.timezone)

    def due_of(self, case: AlertCase) -> dt.date | None:
        """The case's current due date; a case still in triage is due for its decision."""
        if case.due_on is not None:
            return case.due_on
        if case.status == Status.RECEIVED:
            return self._deadlines.triage_due(case.received_on)
        return None

    async def _members(self, uow: NotifyUnitOfWork) -> dict[str, list[str]]:
        members: dict[str, list[str]] = defaultdict(list)
        for officer_id, queue in await uow.alerts.linked_memberships(self._clock()):
            members[queue].append(officer_id)
        return members

    async def _enqueue_new(
        self, uow: NotifyUnitOfWork, alerts: Sequence[tuple[str, str, str, str]]
    ) -> int:
        """Queue (officer, kind, dedup key, payload) rows not queued before."""
        if not alerts:
            return 0
        known = await uow.alerts.existing_keys([a[2] for a in alerts])
        now, queued = self._clock(), 0
        for officer_id, kind, key, payload in alerts:
            if key not in known and await uow.alerts.enqueue(officer_id, kind, key, payload, now):
                known.add(key)
                queued += 1
        return queued

    async def scan(self) -> int:
        """Queue alerts for urgent cases, new cases past their blur delay and transfer requests."""
        now = self._clock()
        async with self._uow() as uow:
            members = await self._members(uow)
            if not members:
                return 0
            alerts: list[tuple[str, str, str, str]] = []
            for case in await uow.alerts.open_cases(now, severity=Severity.URGENT):
                for queue in case.holders:
                    payload = _case_payload(case, queue, self.due_of(case))
                    for officer_id in members.get(queue, []):
                        key = f"urgent:{case.id}:{officer_id}"
                        alerts.append((officer_id, AlertKind.URGENT, key, payload))
            fresh = await uow.alerts.open_cases(
                now,
                visible_since=now - self.settings.new_case_window,
                statuses=(Status.RECEIVED,),
            )
            for case in fresh:
                if case.severity == Severity.URGENT:
                    continue  # alerted as urgent already
                for queue in case.holders:
                    payload = _case_payload(case, queue, self.due_of(case))
                    for officer_id in members.get(queue, []):
                        key = f"new:{case.id}:{officer_id}"
                        alerts.append((officer_id, AlertKind.NEW_CASE, key, payload))
            for transfer in await self._pending_transfers(uow, tuple(members)):
                alerts.extend(_transfer_alerts(transfer, members))
            queued = await self._enqueue_new(uow, alerts)
            await uow.commit()
        return queued

    async def transfer_requested(
        self, transfer: TransferAlert, uow: NotifyUnitOfWork | None = None
    ) -> int:
        """Alert the receiving queue's linked members of a transfer request.

        `scan` calls this for every pending transfer, so a request made through the admin API
        (another process) is alerted within one scan interval and exactly once. Pass a unit of
        work to queue the alerts in its transaction (the caller commits); without one the
        alerts are committed here.
        """
        if uow is not None:
            return await self._enqueue_new(
                uow, _transfer_alerts(transfer, await self._members(uow))
            )
        async with self._uow() as own:
            queued = await self.transfer_requested(transfer, own)
            await own.commit()
        return queued

    async def _pending_transfers(
        self, uow: NotifyUnitOfWork, queues: tuple[str, ...]
    ) -> list[TransferAlert]:
        """Pending transfers into `queues`, as much as an alert may say about them."""
        pending = []
        for record in await uow.transfers.for_queues(queues, "pending"):
            case = await uow.cases.by_id(record.case_id)
            if case is not None and record.to_queue in queues:
                pending.append(
                    TransferAlert(
                        record.id, case.reference, record.to_queue, case.severity, record.respond_by
                    )
                )
        return pending

    def local_day(self) -> tuple[dt.date, int]:
        local = self._clock().astimezone(self._zone)
        return local.date(), local.hour

    async def digest(self) -> int:
        """Once a day, from the configured hour on: each linked officer's due-soon and overdue
        cases, and transfer requests to answer, in one message. Officers with nothing due get
        nothing."""
        day, hour = self.local_day()
        if hour < self.settings.digest_hour:
            return 0
        horizon = self._deadlines.calendar.add_working_days(day, self.settings.digest_working_days)
        now = self._clock()
        async with self._uow() as uow:
            if await uow.alerts.digest_sent(day):
                return 0
            queues_of: dict[str, list[str]] = defaultdict(list)
            for officer_id, queue in await uow.alerts.linked_memberships(now):
                queues_of[officer_id].append(queue)
            cases = []
            for case in await uow.alerts.open_cases(now):
                due = self.due_of(case)
                if due is not None and due <= horizon:
                    cases.append((case, due))
            all_queues = tuple({q for queues in queues_of.values() for q in queues})
            transfers = [
                t for t in await self._pending_transfers(uow, all_queues) if t.respond_by <= horizon
            ]
            alerts: list[tuple[str, str, str, str]] = []
            for officer_id, queues in queues_of.items():
                items: list[dict[str, Any]] = [
                    {
                        "reference": case.reference,
                        "queue": next(q for q in case.holders if q in queues),
                        "severity": case.severity,
                        "due": due.isoformat(),
                        "overdue": due < day,
                        # Which deadlines were missed (acceptance notice, feedback, …).
                        "reasons": [
                            str(m)
                            for m in self._deadlines.missed(case.status, case.received_on, due, day)
                        ],
                    }
                    for case, due in cases
                    if set(case.holders) & set(queues)
                ] + [
                    {
                        "kind": "transfer",
                        "reference": t.reference,
                        "queue": t.to_queue,
                        "severity": t.severity,
                        "due": t.respond_by.isoformat(),
                        "overdue": t.respond_by < day,
                    }
                    for t in transfers
                    if t.to_queue in queues
                ]
                items.sort(key=lambda item: (item["due"], item["reference"]))
                if items:
                    payload = json.dumps({"day": day.isoformat(), "items": items})
                    key = f"digest:{day.isoformat()}:{officer_id}"
                    alerts.append((officer_id, AlertKind.DIGEST, key, payload))
            queued = await self._enqueue_new(uow, alerts)
            await uow.alerts.mark_digest(day)
            await uow.commit()
        return queued
