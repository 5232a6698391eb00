"""Overseer statistics and P10 small-group suppression, attacked by subtraction and by
comparing polls over time."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from cases.errors import Forbidden
from cases.intake import Draft
from cases.ports import CaseRecord
from cases.stats import Cells, Statistics, StatsService, period_end, suppress
from storage.crypto.receipts import new_receipt
from storage.models import AuditRow, Case
from tests.factories import REPORT_TEXT, SetClock, build_site

K = 5
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _beijing(at: str) -> dt.datetime:
    """A Beijing wall-clock time ("2026-11-14 10:00") in UTC, as the production clock gives."""
    return dt.datetime.fromisoformat(at).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def _next_month() -> SetClock:
    """Mid next month: every report filed today is in the published snapshot."""
    at = dt.datetime.now(dt.UTC).replace(day=15, hour=12) + dt.timedelta(days=31)
    return SetClock(at)


def _recover(published: Cells, total: int) -> dict[str, int]:
    """The attacker: subtract the published cells from the total and solve for hidden cells.

    Assumes the strongest knowledge available — every hidden cell holds at least one report
    (zero cells are normally shown) — and returns each hidden cell whose value is forced.
    """
    hidden = [key for key, n in published.items() if n is None]
    rest = total - sum(n for n in published.values() if n is not None)
    if len(hidden) == 1:
        return {hidden[0]: rest}
    if hidden and rest == len(hidden):  # each must be exactly 1
        return dict.fromkeys(hidden, 1)
    if hidden and rest == 0:
        return dict.fromkeys(hidden, 0)
    return {}


def _assert_protected(published: Cells, counts: dict[str, int]) -> None:
    total = sum(counts.values())
    for key, n in published.items():
        assert n is None or n == 0 or n >= K, (key, n)
        assert n is None or n == counts[key]
    recovered = _recover(published, total)
    small = {key: v for key, v in recovered.items() if 0 < counts[key] < K}
    assert small == {}, (counts, published)
    assert recovered == {}, (counts, published)


def test_one_small_cell_gets_a_complementary_cell() -> None:
    counts = {"wages": 7, "safety": 2, "bribery": 6, "other": 0}
    published = suppress(counts, K)
    assert published == {"wages": 7, "safety": None, "bribery": None, "other": 0}
    # Without the complement, total - published would give safety = 2 at once.
    naive = {key: (None if 0 < n < K else n) for key, n in counts.items()}
    assert _recover(naive, sum(counts.values())) == {"safety": 2}
    _assert_protected(published, counts)


def test_hidden_cells_summing_under_k_take_another_complement() -> None:
    counts = {"a": 1, "b": 1, "c": 9, "d": 12}
    published = suppress(counts, K)
    assert published["c"] is None
    assert published["d"] == 12
    _assert_protected(published, counts)


def test_all_ones_fall_back_to_hiding_the_zero_cells() -> None:
    counts = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 0, "g": 0}
    published = suppress(counts, K)
    assert all(n is None for n in published.values())
    assert published.keys() == counts.keys()
    # With no empty cell to hide among, the breakdown is withheld whole.
    assert suppress({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, K) == {}


def test_attack_subtraction_never_recovers_a_small_cell() -> None:
    """Given many random tables, when the attacker subtracts every published cell from the
    total, then no hidden cell is pinned down."""
    rng = random.Random(20261203)
    for _ in range(2000):
        cells = rng.randint(2, 9)
        counts = {f"c{i}": rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 13, 30]) for i in range(cells)}
        if sum(counts.values()) < K:
            continue
        _assert_protected(suppress(counts, K), counts)


async def test_overseer_statistics_from_the_database(database_url: str) -> None:
    site = await build_site(database_url)
    references = []
    for category in ["wages"] * 7 + ["safety"] * 2 + ["bribery"] * 6:
        _, submitted = await site.file_report(category=category)
        references.append(submitted.reference)
    today = dt.datetime.now(dt.UTC).date()
    async with site.engine.begin() as conn:
        # Six closed within the deadline, one late: the share would single out the late one.
        for i, ref in enumerate(references[:7]):
            await conn.execute(
                update(Case)
                .where(Case.reference == ref)
                .values(
                    status="closed",
                    closed_on=today,
                    received_on=today - dt.timedelta(days=10 + i),
                    handling_due_on=today - dt.timedelta(days=1 if i == 6 else -30),
                )
            )
    overseer = await site.login("overseer1")
    clock = _next_month()
    service = StatsService(site.uow, k=K, clock=clock)  # type: ignore[arg-type]
    figures: Statistics = await service.statistics(overseer)
    assert figures.as_of == clock.at.date().replace(day=1)
    assert figures.total == 15
    assert figures.by_category["wages"] == 7
    assert figures.by_category["safety"] is None
    assert figures.by_category["bribery"] is None  # the complement
    assert figures.by_category["other"] == 0
    assert figures.by_status["closed"] == 7
    assert figures.by_status["received"] == 8
    assert figures.closed_within_deadline_share is None  # one late case is a small group
    assert figures.median_days_to_close == 13.0
    for published in (figures.by_queue, figures.by_category, figures.by_status, figures.by_month):
        assert all(n is None or n == 0 or n >= K for n in published.values())
        assert sum(n for n in published.values() if n) <= 15
        assert _recover(published, 15) == {}
    with pytest.raises(Forbidden):
        await service.statistics(await site.login("union1"))
    async with site.engine.connect() as conn:
        actions = list(await conn.scalars(select(AuditRow.action)))
    assert "stats_viewed" in actions
    await site.engine.dispose()


async def test_fewer_than_k_cases_publish_nothing(database_url: str) -> None:
    site = await build_site(database_url)
    for _ in range(3):
        await site.file_report()
    service = StatsService(site.uow, k=K, clock=_next_month())  # type: ignore[arg-type]
    figures = await service.statistics(await site.login("overseer1"))
    assert figures.total is None
    assert all(n is None for n in figures.by_category.values())
    await site.engine.dispose()


async def test_reports_about_report_handlers_are_counted_by_route(database_url: str) -> None:
    """The overseer picks out reports about discipline staff the reporter sent to them (and the
    other recusal routes) — suppressed under k like every cell."""
    site = await build_site(database_url)
    routes = (
        [(None, None)] * 5
        + [("discipline", "overseer")] * 5
        + [("union", "discipline")] * 5
        + [("discipline", "union")] * 2
    )
    for involves, route in routes:
        draft = Draft(
            category="other", text="关于办案人员", involves_handler=involves, handler_route=route
        )
        await site.intake.submit(draft, new_receipt())
    service = StatsService(site.uow, k=K, clock=_next_month())  # type: ignore[arg-type]
    figures = await service.statistics(await site.login("overseer1"))
    assert figures.total == 17
    published = figures.by_handler_involved
    assert set(published) == {
        "none",
        "union_staff",
        "discipline_staff_to_union",
        "discipline_staff_to_overseer",
    }
    assert published["discipline_staff_to_union"] is None  # 2 < k
    # …and a complement, so 17 minus the rest does not give the 2 away.
    assert sum(1 for n in published.values() if n is None) == 2
    _assert_protected(
        published,
        {
            "none": 5,
            "union_staff": 5,
            "discipline_staff_to_union": 2,
            "discipline_staff_to_overseer": 5,
        },
    )
    await site.engine.dispose()


def test_handler_breakdown_publishes_what_is_safe() -> None:
    as_of = dt.date(2026, 12, 1)
    cases = [_case(f"c{i}", dt.date(2026, 11, 4)) for i in range(12)]
    overseer = {f"c{i}": "discipline_staff_to_overseer" for i in range(6)}
    figures = StatsService(object(), k=K).compute(cases, as_of, overseer)  # type: ignore[arg-type]
    assert figures.by_handler_involved == {
        "none": 6,
        "union_staff": 0,
        "discipline_staff_to_union": 0,
        "discipline_staff_to_overseer": 6,
    }
    few = StatsService(object(), k=K).compute(cases[:4], as_of, overseer)  # type: ignore[arg-type]
    assert all(n is None for n in few.by_handler_involved.values())


async def test_attack_differencing_polls_around_a_new_report(database_url: str) -> None:
    """Given October's ten reports (five safety, five wages) and four wage reports early in
    November, when a lone bribery report arrives between two of the overseer's polls, then the
    polls are identical — live figures would have gone from bribery 0 / safety 5 to both
    hidden with a total one higher, exposing it and its arrival time. It appears only once
    November has ended, in November's batch, and its cell is suppressed."""
    site = await build_site(database_url)
    clock = SetClock(_beijing("2026-10-01 09:00"))
    intake = site.intake_at(clock)

    async def file(category: str, at: str) -> None:
        clock.at = _beijing(at)
        await intake.submit(Draft(category=category, text=REPORT_TEXT), new_receipt())

    for day, category in enumerate(["safety"] * 5 + ["wages"] * 5, start=10):
        await file(category, f"2026-10-{day} 15:00")
    for day in range(3, 7):
        await file("wages", f"2026-11-0{day} 11:00")
    stats = StatsService(site.uow, k=K, clock=clock)  # type: ignore[arg-type]
    overseer = await site.login("overseer1")

    clock.at = _beijing("2026-11-14 10:00")
    before = await stats.statistics(overseer)
    assert before.as_of == dt.date(2026, 11, 1)
    assert before.total == 10
    assert before.by_month == {"2026-10": 10}
    assert before.by_category["bribery"] == 0
    assert (before.by_category["safety"], before.by_category["wages"]) == (5, 5)

    await file("bribery", "2026-11-14 10:05")
    clock.at = _beijing("2026-11-14 10:10")
    assert await stats.statistics(overseer) == before
    # 07:30 on 1 December in Beijing is still 30 November in UTC, the day a receipt date
    # counts: the report belongs to November, so November must not be published yet either.
    await file("safety", "2026-12-01 07:30")
    clock.at = _beijing("2026-12-01 08:50")
    assert await stats.statistics(overseer) == before

    clock.at = _beijing("2026-12-01 09:00")
    batch = await stats.statistics(overseer)
    assert batch.as_of == dt.date(2026, 12, 1)
    assert batch.total == 16
    assert batch.by_month == {"2026-10": 10, "2026-11": 6}
    counts = {c: 0 for c in batch.by_category} | {"bribery": 1, "safety": 6, "wages": 9}
    assert batch.by_category["bribery"] is None
    _assert_protected(batch.by_category, counts)
    # December's reports wait for December to end, however late in the month one polls.
    await file("bribery", "2026-12-15 10:00")
    clock.at = _beijing("2026-12-31 23:59")
    assert await stats.statistics(overseer) == batch
    await site.engine.dispose()


@pytest.mark.parametrize(
    ("utc", "zone", "as_of"),
    [
        ("2026-11-30 15:59", "Asia/Shanghai", "2026-11-01"),  # 23:59 in Beijing
        ("2026-11-30 23:30", "Asia/Shanghai", "2026-11-01"),  # December in Beijing, not in UTC
        ("2026-12-01 00:30", "Asia/Shanghai", "2026-11-01"),  # a straggler may still commit
        ("2026-12-01 01:00", "Asia/Shanghai", "2026-12-01"),
        ("2027-01-01 01:00", "Asia/Shanghai", "2027-01-01"),
        ("2026-12-01 05:30", "America/New_York", "2026-11-01"),  # 30 Nov, 23:30 after settling
        ("2026-12-01 06:00", "America/New_York", "2026-12-01"),
    ],
)
def test_the_snapshot_ends_when_the_month_has_ended_everywhere_it_counts(
    utc: str, zone: str, as_of: str
) -> None:
    now = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert period_end(now, ZoneInfo(zone)) == dt.date.fromisoformat(as_of)


def test_month_breakdown_lists_complete_months_only() -> None:
    cases = (
        [_case(f"s{i}", dt.date(2026, 9, 3)) for i in range(6)]
        + [_case(f"n{i}", dt.date(2026, 11, 30)) for i in range(5)]
        + [_case(f"d{i}", dt.date(2026, 12, 1)) for i in range(7)]
    )
    figures = StatsService(object(), k=K).compute(cases, dt.date(2026, 12, 1))  # type: ignore[arg-type]
    assert figures.as_of == dt.date(2026, 12, 1)
    assert figures.total == 11
    assert figures.by_month == {"2026-09": 6, "2026-10": 0, "2026-11": 5}
    empty = StatsService(object(), k=K).compute([], dt.date(2026, 12, 1))  # type: ignore[arg-type]
    assert empty.by_month == {"2026-11": None}


def _case(case_id: str, received: dt.date) -> CaseRecord:
    return CaseRecord(
        id=case_id,
        reference=case_id,
        category="other",
        severity="normal",
        status="received",
        routing="triage",
        received_on=received,
        visible_after=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        case_public_key=b"",
        reporter_public_key=b"",
        not_accepted_reason=None,
        reporter_unreachable=False,
        holders=("triage",),
    )
