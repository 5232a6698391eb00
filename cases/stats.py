"""Overseer statistics with small-group protection (P10).

Five one-way breakdowns of the same case total — by holding queue, category, status, month
received, and whether the report involves report handlers (and where the reporter sent it) —
plus the share of closed cases closed within their handling deadline and the median
days to close. Metadata only: nothing is decrypted.

Suppression, per breakdown, because each breakdown sums to the published total:
- primary: every cell from 1 to k-1 is hidden (`None`); zero cells are shown, a zero names no one;
- complementary: while the hidden cells could be recovered by subtracting the published cells
  from the total — only one hidden cell, a hidden sum under k, or a hidden sum equal to the
  number of hidden cells (each then must be 1) — the smallest published non-zero cell is hidden
  too; as a last resort the zero cells are hidden as well, and if even that is not enough (every
  cell is 1) the breakdown is withheld entirely (an empty mapping).
A total under k hides everything. Breakdowns are one-way only (no cross tables).

Suppression of one table says nothing about the difference of two, so the figures are a
snapshot of complete months, not live data: only cases received before the first day of the
current month (`as_of`) count. A new report changes nothing the overseer sees until its month
has ended; then it arrives with the whole month's reports, whose count the month breakdown
publishes too. Statuses, queues, categories and closing dates of those cases are current:
they move with officers' work, never with a reporter's arrival. Two snapshots a month apart
still differ by that month's reports in every breakdown, which the suppression of each
cumulative table does not fully cover (docs/decisions-issue-4.md, "monthly snapshot").
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cases.categories import CATEGORIES
from cases.lifecycle import Status
from cases.officers import OfficerSession
from cases.ports import CaseRecord, IntakeMetaRecord, UnitOfWorkFactory
from cases.roles import Role, require
from cases.runtime import Clock, utcnow

STATS_READERS = frozenset({Role.OVERSEER})
QUEUE_CELLS = ("triage", "union", "discipline", "joint", "none")
# Reports about report handlers (DESIGN §4 recusal), by the route the reporter chose: about
# union staff or funds (to discipline); about discipline staff, to the union or to the overseer.
# The overseer holds no queue key, so this count is how those reports reach them at all.
HANDLER_CELLS = (
    "none",
    "union_staff",
    "discipline_staff_to_union",
    "discipline_staff_to_overseer",
)
# A report whose intake read the clock just before midnight commits a moment after it, with
# the earlier date: a month is published this long after it ended, so such a straggler is in.
SETTLE = dt.timedelta(hours=1)

Cells = dict[str, int | None]


@dataclass(frozen=True)
class Statistics:
    k: int
    as_of: dt.date  # the snapshot's end, exclusive: cases received before this day
    total: int | None
    by_queue: Cells
    by_category: Cells
    by_status: Cells
    by_month: Cells
    by_handler_involved: Cells
    closed_within_deadline_share: float | None
    median_days_to_close: float | None


def _recoverable(hidden: dict[str, int], k: int) -> bool:
    """Could someone who knows the hidden cells' sum pin a hidden cell down?"""
    if not hidden:
        return False
    total = sum(hidden.values())
    return len(hidden) < 2 or total < k or total == len(hidden)


def suppress(counts: dict[str, int], k: int) -> Cells:
    """Hide cells under k and enough complementary cells that none can be derived (P10)."""
    hidden = {key: n for key, n in counts.items() if 0 < n < k}
    for key in sorted((c for c in counts if counts[c] >= k), key=lambda c: (counts[c], c)):
        if not _recoverable(hidden, k):
            break
        hidden[key] = counts[key]
    if _recoverable(hidden, k):
        hidden.update({key: n for key, n in counts.items() if n == 0})
    if _recoverable(hidden, k):
        # Every cell is 1 and none is empty: even the number of cells would tell, so the whole
        # breakdown is withheld.
        return {}
    return {key: None if key in hidden else n for key, n in counts.items()}


def period_end(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The first day of the current month: the statistics count cases received before it.

    The month is the one in `zone` (the alert timezone). Receipt dates are UTC days (intake
    stamps `received_on` from the UTC clock), so a month is closed only once the UTC day has
    reached it too; otherwise, east of UTC, a report filed in the first hours of the month
    would carry the last month's date and join a snapshot already published. Hence the
    earlier of the two days, `SETTLE` ago.
    """
    settled = now - SETTLE
    today = min(settled.astimezone(zone).date(), settled.astimezone(dt.UTC).date())
    return today.replace(day=1)


def _queue_of(case: CaseRecord) -> str:
    held = set(case.holders)
    if {"union", "discipline"} <= held:
        return "joint"
    for queue in ("union", "discipline", "triage"):
        if queue in held:
            return queue
    return "none"


def _handler_cell(meta: IntakeMetaRecord | None) -> str:
    if meta is None or meta.involves_handler is None:
        return "none"
    if meta.involves_handler == "union":
        return "union_staff"
    if meta.handler_route == "overseer":
        return "discipline_staff_to_overseer"
    return "discipline_staff_to_union"


def _months(first: dt.date, last: dt.date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _count(keys: list[str], domain: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(domain, 0)
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


class StatsService:
    """Aggregates for the overseer over complete months; every call is audited."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        k: int = 5,
        clock: Clock = utcnow,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        if k < 2:
            raise ValueError("the minimum cell size k must be at least 2")
        self._uow = uow
        self._k = k
        self._clock = clock
        self._zone = ZoneInfo(timezone)

    async def statistics(self, session: OfficerSession) -> Statistics:
        """The suppressed figures for cases received before the current month (in the alert
        timezone); the same all month long, whatever arrives meanwhile."""
        require(session.role, STATS_READERS)
        now = self._clock()
        as_of = period_end(now, self._zone)
        async with self._uow() as uow:
            cases = await uow.stats.received_before(as_of)
            handlers = {c.id: _handler_cell(await uow.intake_meta.get(c.id)) for c in cases}
            await uow.audit.append(
                at=now,
                officer_id=session.officer_id,
                action="stats_viewed",
                case_reference=None,
                detail="",
            )
            await uow.commit()
        return self.compute(cases, as_of, handlers)

    def compute(
        self, cases: list[CaseRecord], as_of: dt.date, handlers: dict[str, str] | None = None
    ) -> Statistics:
        """The published figures for the `cases` received before `as_of` (a month's first
        day), suppressed for k. `handlers` maps a case id to its HANDLER_CELLS cell (absent:
        `none`)."""
        handlers = handlers or {}
        k = self._k
        cases = [c for c in cases if c.received_on < as_of]
        last = as_of - dt.timedelta(days=1)  # the last complete month
        first = min((c.received_on for c in cases), default=last)
        breakdowns = {
            "queue": _count([_queue_of(c) for c in cases], list(QUEUE_CELLS)),
            "category": _count([c.category for c in cases], sorted(CATEGORIES)),
            "status": _count([c.status for c in cases], [s.value for s in Status]),
            "month": _count([c.received_on.strftime("%Y-%m") for c in cases], _months(first, last)),
            "handler": _count([handlers.get(c.id, "none") for c in cases], list(HANDLER_CELLS)),
        }
        total = len(cases)
        if total < k:
            blank = {name: dict.fromkeys(cells, None) for name, cells in breakdowns.items()}
            return _statistics(k, as_of, None, blank, None, None)
        published: dict[str, Cells] = {
            name: suppress(cells, k) for name, cells in breakdowns.items()
        }
        # Over the snapshot's cases, closed by now: these figures move when an officer closes one
        # of them (as `by_status` does), never when a report arrives.
        closed = [
            (c.received_on, c.closed_on, c.handling_due_on)
            for c in cases
            if c.status == Status.CLOSED and c.closed_on is not None
        ]
        on_time = sum(1 for _, end, due in closed if due is None or end <= due)
        late = len(closed) - on_time
        share = None
        # Publish the share only if it cannot single out a small group of late (or on-time) cases.
        if len(closed) >= k and not (0 < late < k) and not (0 < on_time < k):
            share = round(on_time / len(closed), 3)
        median = None
        if len(closed) >= k:
            median = float(statistics.median((end - start).days for start, end, _ in closed))
        return _statistics(k, as_of, total, published, share, median)


def _statistics(
    k: int,
    as_of: dt.date,
    total: int | None,
    cells: dict[str, Cells],
    share: float | None,
    median: float | None,
) -> Statistics:
    return Statistics(
        k=k,
        as_of=as_of,
        total=total,
        by_queue=cells["queue"],
        by_category=cells["category"],
        by_status=cells["status"],
        by_month=cells["month"],
        by_handler_involved=cells["handler"],
        closed_within_deadline_share=share,
        median_days_to_close=median,
    )
