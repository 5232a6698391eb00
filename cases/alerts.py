"""Officer alerts: what is worth an officer's attention, queued in `alert_outbox`.

An alert says which case (its reference), in which queue, how severe and by when — never any
report content and nothing a reporter wrote. Alerts go only to officers who linked a chat
(`cases.alert_links`) and hold a live grant of the queue concerned:

- an urgent case, as soon as it is visible, to the members of every queue holding it (so a case
  triaged urgent to the union alerts the union as well);
- a new case reaching triage once its blur delay (`visible_after`, P8) has passed;
- a transfer request, to the receiving queue (`transfer_requested`, called by the transfers
  service, in its own transaction if it passes one);
- a daily digest per officer, at a configured local hour, of the cases in their queues due
  within two working days or overdue.

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
        """Queue alerts for urgent cases and for new cases past their blur delay."""
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
            queued = await self._enqueue_new(uow, alerts)
            await uow.commit()
        return queued

    async def transfer_requested(
        self, transfer: TransferAlert, uow: NotifyUnitOfWork | None = None
    ) -> int:
        """Alert the receiving queue's linked members of a transfer request.

        Pass the transfer's own unit of work to queue the alerts in the same transaction as the
        request (the caller commits); without one the alerts are committed here.
        """
        payload = json.dumps(
            {
                "reference": transfer.reference,
                "queue": transfer.to_queue,
                "severity": transfer.severity,
                "due": transfer.respond_by.isoformat(),
            }
        )
        if uow is not None:
            return await self._transfer_rows(uow, transfer, payload)
        async with self._uow() as own:
            queued = await self._transfer_rows(own, transfer, payload)
            await own.commit()
        return queued

    async def _transfer_rows(
        self, uow: NotifyUnitOfWork, transfer: TransferAlert, payload: str
    ) -> int:
        members = await self._members(uow)
        alerts = [
            (
                officer_id,
                AlertKind.TRANSFER,
                f"transfer:{transfer.transfer_id}:{officer_id}",
                payload,
            )
            for officer_id in members.get(transfer.to_queue, [])
        ]
        return await self._enqueue_new(uow, alerts)

    def local_day(self) -> tuple[dt.date, int]:
        local = self._clock().astimezone(self._zone)
        return local.date(), local.hour

    async def digest(self) -> int:
        """Once a day, from the configured hour on: each linked officer's due-soon and overdue
        cases, in one message. Officers with nothing due get nothing."""
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
            alerts: list[tuple[str, str, str, str]] = []
            for officer_id, queues in queues_of.items():
                items = [
                    {
                        "reference": case.reference,
                        "queue": next(q for q in case.holders if q in queues),
                        "severity": case.severity,
                        "due": due.isoformat(),
                        "overdue": due < day,
                    }
                    for case, due in sorted(cases, key=lambda pair: (pair[1], pair[0].reference))
                    if set(case.holders) & set(queues)
                ]
                if items:
                    payload = json.dumps({"day": day.isoformat(), "items": items})
                    key = f"digest:{day.isoformat()}:{officer_id}"
                    alerts.append((officer_id, AlertKind.DIGEST, key, payload))
            queued = await self._enqueue_new(uow, alerts)
            await uow.alerts.mark_digest(day)
            await uow.commit()
        return queued
