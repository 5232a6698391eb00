"""Overseer statistics and P10 small-group suppression, attacked by subtraction."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from cases.errors import Forbidden
from cases.intake import Draft
from cases.ports import CaseRecord
from cases.stats import Cells, Statistics, StatsService, suppress
from storage.crypto.receipts import new_receipt
from storage.models import AuditRow, Case
from tests.factories import build_site

K = 5


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
    service = StatsService(site.uow, k=K)  # type: ignore[arg-type]
    figures: Statistics = await service.statistics(overseer)
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
    figures = await StatsService(site.uow, k=K).statistics(  # type: ignore[arg-type]
        await site.login("overseer1")
    )
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
    service = StatsService(site.uow, k=K)  # type: ignore[arg-type]
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
    today = dt.date(2026, 12, 4)
    cases = [_case(f"c{i}", today) for i in range(12)]
    overseer = {f"c{i}": "discipline_staff_to_overseer" for i in range(6)}
    figures = StatsService(object(), k=K).compute(cases, today, overseer)  # type: ignore[arg-type]
    assert figures.by_handler_involved == {
        "none": 6,
        "union_staff": 0,
        "discipline_staff_to_union": 0,
        "discipline_staff_to_overseer": 6,
    }
    few = StatsService(object(), k=K).compute(cases[:4], today, overseer)  # type: ignore[arg-type]
    assert all(n is None for n in few.by_handler_involved.values())


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
