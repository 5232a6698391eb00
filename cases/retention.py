"""Retention (DESIGN §4): closed cases are purged after their period; notify links sooner.

A not-accepted case counts as closed from the triage decision (its `closed_on`), whether or not
an officer also closes it later with an outcome text.

- not accepted and unfounded cases: `short` (default 60 days) after closing — only when that
  was the case's one outcome (`short_outcome`): never reopened, and an unfounded case never
  ordered rectified. The period follows from the case's history, not from fields that a
  later round of handling leaves standing (a reopened not-accepted case keeps its reason);
- every other case: `long` (default 3 years) after closing;
- notify links: `notify_link` (default 30 days) after closing, whatever the case;
- settled officer alerts: `alerts` (default 30 days) after they were queued.

Purging deletes the case row with its sealed items, events, case keys, outbox rows and link;
the audit log keeps a content-free `case_purged` event (reference and rule only). The dry run
computes the same plan without changing anything, so an operator can check it first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from cases.dispositions import Disposition
from cases.lifecycle import Status
from cases.ports_notify import NotifyUnitOfWorkFactory, RetentionCase
from cases.runtime import Clock, utcnow


def is_unfounded(case: RetentionCase) -> bool:
    """A case closed as unfounded: the disposition cleared the person named (澄清正名)."""
    return case.disposition == Disposition.CLEARED


def reopened(history: Sequence[str]) -> bool:
    """Closed and then handled again (a message to a closed case leaves it closed)."""
    return any(a == Status.CLOSED and b != Status.CLOSED for a, b in pairwise(history))


def short_outcome(case: RetentionCase) -> bool:
    """Whether the case's one and only outcome was "not accepted" or "unfounded".

    A reopened case is kept for the long period whatever it ends as: reopening says the first
    outcome did not hold, and purging is the one step that cannot be undone. An unfounded
    disposition followed by rectification is not unfounded: something was put right.
    """
    if reopened(case.history):
        return False
    if case.not_accepted_reason is not None:
        return True
    return is_unfounded(case) and Status.RECTIFICATION not in case.history


@dataclass(frozen=True)
class RetentionPolicy:
    short: dt.timedelta = dt.timedelta(days=60)
    long: dt.timedelta = dt.timedelta(days=3 * 365)
    notify_link: dt.timedelta = dt.timedelta(days=30)
    # Settled officer alerts (they name case references) go before any case they name can.
    alerts: dt.timedelta = dt.timedelta(days=30)

    def period(self, case: RetentionCase) -> tuple[str, dt.timedelta]:
        if short_outcome(case):
            return "short", self.short
        return "long", self.long


@dataclass(frozen=True)
class Purge:
    reference: str
    closed_on: dt.date
    rule: str  # "short" or "long"


@dataclass(frozen=True)
class RetentionPlan:
    """What a run purges: whole cases, and notify links of cases that stay."""

    cases: tuple[Purge, ...]
    links: tuple[str, ...]  # case references whose notify link goes


class RetentionService:
    """Plans and runs the daily purge."""

    def __init__(
        self, uow: NotifyUnitOfWorkFactory, policy: RetentionPolicy, clock: Clock = utcnow
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._clock = clock

    def _split(
        self, closed: list[RetentionCase], today: dt.date
    ) -> tuple[list[tuple[RetentionCase, str]], list[RetentionCase]]:
        purge, links = [], []
        for case in closed:
            rule, period = self._policy.period(case)
            if case.closed_on + period <= today:
                purge.append((case, rule))
            elif case.has_link and case.closed_on + self._policy.notify_link <= today:
                links.append(case)
        return purge, links

    async def run(self, *, dry_run: bool) -> RetentionPlan:
        """Purge what is due today (or only list it with `dry_run`)."""
        now = self._clock()
        today = now.date()
        earliest = min(self._policy.short, self._policy.long, self._policy.notify_link)
        async with self._uow() as uow:
            closed = await uow.retention.closed_before(today - earliest)
            purge, links = self._split(closed, today)
            plan = RetentionPlan(
                tuple(Purge(c.reference, c.closed_on, rule) for c, rule in purge),
                tuple(c.reference for c in links),
            )
            if dry_run:
                return plan
            for case, rule in purge:
                await uow.retention.purge_case(case.id)
                await uow.audit.append(
                    at=now,
                    officer_id=None,
                    action="case_purged",
                    case_reference=case.reference,
                    detail=f"retention:{rule}",
                )
            for case in links:
                await uow.outbox.delete_link(case.id)
            await uow.alerts.purge_settled(now - self._policy.alerts)
            await uow.commit()
        return plan
