"""Clue transfer (线索移交): accept, decline, overdue, audit, and the receiving queue's keys
before it accepts (attack)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cases.casework import TriageDecision
from cases.categories import Routing
from cases.errors import Conflict, DecryptionError, InvalidInput, NotFound
from cases.lifecycle import Status
from cases.runtime import utcnow
from cases.transfers import TransferService
from storage.models import AuditRow, Transfer
from tests.factories import Site, build_site


async def _union_case(site: Site) -> str:
    _, submitted = await site.file_report()
    await site.casework.triage(
        await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.UNION)
    )
    await site.casework.change_status(
        await site.login("union1"), submitted.reference, Status.IN_PROGRESS, None
    )
    return submitted.reference


def _service(site: Site, days_later: int = 0) -> TransferService:
    def clock() -> dt.datetime:
        return utcnow() + dt.timedelta(days=days_later)

    return TransferService(site.uow, clock=clock)  # type: ignore[arg-type]


async def _actions(site: Site) -> list[str]:
    async with site.engine.connect() as conn:
        return list(await conn.scalars(select(AuditRow.action).order_by(AuditRow.id)))


async def test_accepted_transfer_makes_the_receiver_a_holder(database_url: str) -> None:
    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    sent = await transfers.request(union, ref, "discipline", "涉及项目负责人收受回扣，请纪检处置")
    assert sent.status == "pending"
    assert sent.respond_by == site.casework._deadlines.transfer_respond_by(sent.requested_on)
    with pytest.raises(Conflict):  # one pending transfer per receiving queue
        await transfers.request(union, ref, "discipline", "again")
    incoming = await transfers.list_transfers(disc, direction="incoming")
    assert [(t.reference, t.feedback) for t in incoming] == [(ref, sent.feedback)]
    assert await transfers.list_transfers(disc, direction="outgoing") == []

    accepted = await transfers.accept(disc, sent.id)
    assert accepted.status == "accepted"
    assert accepted.responded_on == dt.datetime.now(dt.UTC).date()
    detail = await site.casework.open_case(disc, ref)
    assert detail.summary.holders == ("discipline", "union")
    assert detail.summary.routing == "joint"
    assert any(i.kind == "transfer_feedback" for i in detail.items)
    with pytest.raises(Conflict):
        await transfers.accept(disc, sent.id)
    async with site.engine.connect() as conn:
        parked = await conn.scalar(select(Transfer.sealed_case_key).where(Transfer.id == sent.id))
    assert parked is None
    actions = await _actions(site)
    assert "transfer_requested" in actions
    assert "transfer_accepted" in actions
    await site.engine.dispose()


async def test_declined_transfer_leaves_the_receiver_without_the_case(database_url: str) -> None:
    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    sent = await transfers.request(union, ref, "discipline", "疑似违纪")
    with pytest.raises(InvalidInput):
        await transfers.decline(disc, sent.id, "  ")
    declined = await transfers.decline(disc, sent.id, "属劳动争议，不属纪检管辖")
    assert declined.status == "declined"
    with pytest.raises(NotFound):
        await site.casework.open_case(disc, ref)
    outgoing = await transfers.list_transfers(union, direction="outgoing")
    assert outgoing[0].decline_reason == "属劳动争议，不属纪检管辖"
    assert outgoing[0].feedback == "疑似违纪"
    async with site.engine.connect() as conn:
        parked = await conn.scalar(select(Transfer.sealed_case_key).where(Transfer.id == sent.id))
    assert parked is None
    assert "transfer_declined" in await _actions(site)
    # Declined, so a new transfer may be asked for.
    again = await transfers.request(union, ref, "discipline", "补充了新线索")
    assert again.status == "pending"
    await site.engine.dispose()


async def test_transfer_past_its_respond_by_date_is_listed_as_overdue(database_url: str) -> None:
    site = await build_site(database_url)
    ref = await _union_case(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    sent = await _service(site).request(union, ref, "discipline", "请接收")
    today = await _service(site).list_transfers(disc, overdue=True)
    assert today == []
    later = _service(site, days_later=(sent.respond_by - sent.requested_on).days + 1)
    overdue = await later.list_transfers(disc, overdue=True)
    assert [(t.id, t.overdue) for t in overdue] == [(sent.id, True)]
    both = await later.list_transfers(union, overdue=True, direction="outgoing")
    assert [t.id for t in both] == [sent.id]
    await later.accept(disc, sent.id)
    assert await later.list_transfers(disc, overdue=True) == []
    await site.engine.dispose()


async def test_refused_transfers(database_url: str) -> None:
    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    with pytest.raises(InvalidInput):  # to its own queue
        await transfers.request(union, ref, "union", "x")
    with pytest.raises(InvalidInput):  # no feedback
        await transfers.request(union, ref, "discipline", " ")
    with pytest.raises(InvalidInput):
        await transfers.request(union, ref, "discipline", "x", dt.date(2000, 1, 1))
    with pytest.raises(NotFound):  # the discipline queue does not hold it
        await transfers.request(disc, ref, "union", "x")
    sent = await transfers.request(union, ref, "discipline", "x")
    with pytest.raises(NotFound):  # only the receiving queue answers
        await transfers.accept(union, sent.id)
    await site.engine.dispose()


async def test_attack_receiving_queue_cannot_decrypt_before_accepting(database_url: str) -> None:
    """Given a pending transfer to discipline, when a discipline officer's session calls the
    decrypting service directly (no route check), then decryption fails: no case-key grant
    exists for the discipline queue until it accepts."""
    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    sent = await transfers.request(union, ref, "discipline", "请纪检处置")
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(ref)
        with pytest.raises(DecryptionError):
            await site.casework.decrypt_case(uow, disc, case)
    with pytest.raises(NotFound):
        await site.casework.open_case(disc, ref)
    await transfers.accept(disc, sent.id)
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(ref)
        opened = await site.casework.decrypt_case(uow, disc, case)
    assert opened.report
    await site.engine.dispose()


async def test_retention_purges_a_case_with_transfers(database_url: str) -> None:
    """Transfer rows (and their sealed feedback) go with the case when retention purges it."""
    from cases.retention import RetentionPolicy, RetentionService

    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    declined = await transfers.request(union, ref, "discipline", "请接收")
    await transfers.decline(disc, declined.id, "不属管辖")
    accepted = await transfers.request(union, ref, "discipline", "补充线索后再次移交")
    await transfers.accept(disc, accepted.id)
    await site.casework.close(union, ref, "已办结")
    purge = RetentionService(
        site.uow,  # type: ignore[arg-type]
        RetentionPolicy(),
        clock=lambda: utcnow() + dt.timedelta(days=3 * 365 + 1),
    )
    done = await purge.run(dry_run=False)
    assert [p.reference for p in done.cases] == [ref]
    async with site.engine.connect() as conn:
        left = list(await conn.scalars(select(Transfer.id)))
    assert left == []
    await site.engine.dispose()


async def test_a_transfer_still_pending_when_the_case_closes_cannot_be_accepted(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    ref = await _union_case(site)
    transfers = _service(site)
    union, disc = await site.login("union1"), await site.login("disc1")
    sent = await transfers.request(union, ref, "discipline", "请纪检关注")
    await site.casework.close(union, ref, "已协调解决")
    with pytest.raises(Conflict, match="closed"):
        await transfers.accept(disc, sent.id)
    with pytest.raises(NotFound):
        await site.casework.open_case(disc, ref)
    # The receiving queue can still answer it with a reason.
    declined = await transfers.decline(disc, sent.id, "案件已办结")
    assert declined.status == "declined"
    await site.engine.dispose()
