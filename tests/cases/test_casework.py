"""The closed loop through the services on SQLite and PostgreSQL; key properties as attacks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from cases.casework import CaseworkService, TriageDecision
from cases.categories import NotAcceptedReason, Routing
from cases.dispositions import Disposition
from cases.errors import (
    AuthenticationFailed,
    DecryptionError,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from cases.followup import MAX_REPLY_CHARS, ReporterFollowUp
from cases.intake import (
    ATTACHMENT_KIND,
    DEPARTMENT_KIND,
    REPORT_KIND,
    Attachment,
    BlurPolicy,
    Draft,
    IntakeService,
    NotifyLevel,
)
from cases.lifecycle import ReporterStatus, Status
from cases.runtime import KdfPool
from cases.status_view import REPLY_KIND
from cases.workflow import WorkflowService
from storage.crypto import keys
from storage.crypto.notify import open_link
from storage.crypto.primitives import Binding, open_sealed, random_bytes
from storage.crypto.receipts import new_receipt, reporter_keypair
from storage.repos_notify import SqlNotifyUnitOfWork
from tests.factories import PASSWORD, REPORT_TEXT, Site, build_site

LONG_TEXT = ("举报内容 <b>&amp; _*[]()~` 😀 " * 400)[:5000]


async def test_report_round_trips_exactly_to_the_triage_officer(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report(LONG_TEXT)
    triage = await site.login("triage1")
    [row] = await site.casework.list_cases(triage)
    assert row.reference == submitted.reference
    detail = await site.casework.open_case(triage, submitted.reference)
    assert detail.report == LONG_TEXT
    await site.engine.dispose()


async def test_whole_loop_and_reporter_view(database_url: str) -> None:
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    triage, union = await site.login("triage1"), await site.login("union1")
    await site.casework.triage(
        triage, submitted.reference, TriageDecision(routing=Routing.UNION, note="已转工会")
    )
    # Triage lost the case once it moved on; the union now holds it.
    with pytest.raises(NotFound):
        await site.casework.open_case(triage, submitted.reference)
    await site.casework.change_status(union, submitted.reference, Status.IN_PROGRESS, "正在核实")
    view = await site.intake.status(receipt)
    assert view is not None
    assert view.status is ReporterStatus.IN_PROGRESS
    assert [(h.status, h.note) for h in view.history] == [
        (ReporterStatus.RECEIVED, None),
        (ReporterStatus.ACCEPTED, "已转工会"),
        (ReporterStatus.IN_PROGRESS, "正在核实"),
    ]
    detail = await site.casework.open_case(union, submitted.reference)
    assert detail.report == REPORT_TEXT
    assert [e.note for e in detail.history] == [None, "已转工会", "正在核实"]
    await site.engine.dispose()


async def test_invalid_transition_names_the_allowed_ones(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    triage = await site.login("triage1")
    with pytest.raises(InvalidTransition) as caught:
        await site.casework.change_status(triage, submitted.reference, Status.CLOSED, None)
    # Leaving `received` is triage's decision only, and the refusal says so.
    assert caught.value.allowed == ["accepted", "not_accepted"]
    assert caught.value.via == {"accepted": "triage", "not_accepted": "triage"}
    await site.casework.triage(
        triage,
        submitted.reference,
        TriageDecision(not_accepted_reason=NotAcceptedReason.OUT_OF_SCOPE),
    )
    with pytest.raises(InvalidTransition) as caught:
        await site.casework.change_status(triage, submitted.reference, Status.IN_PROGRESS, None)
    assert caught.value.allowed == ["closed"]
    assert caught.value.via == {"closed": "close"}
    await site.engine.dispose()


async def test_p3_union_officer_cannot_open_discipline_case_even_without_checks(
    database_url: str,
) -> None:
    """Given a discipline-only case, when a union session calls the decrypting code directly,
    bypassing every route and service check, then decryption still fails."""
    site = await build_site(database_url)
    _, submitted = await site.file_report(category="bribery")
    await site.casework.triage(
        await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.DISCIPLINE)
    )
    union = await site.login("union1")
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(submitted.reference)
        with pytest.raises(DecryptionError):
            await site.casework.decrypt_case(uow, union, case)
        # Even handing the union key in under the discipline name does not help.
        union.queue_keys["discipline"] = bytearray(union.queue_keys["union"])
        with pytest.raises(DecryptionError):
            await site.casework.decrypt_case(uow, union, case)
    await site.engine.dispose()


async def test_p3_administrator_and_overseer_hold_no_queue_key(database_url: str) -> None:
    site = await build_site(database_url)
    for username in ("admin1", "overseer1"):
        session = await site.login(username)
        assert session.queue_keys == {}
    await site.engine.dispose()


async def _database_dump(site: Site) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as someone with a copy of the database has them."""
    metadata = MetaData()
    async with site.engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        return {
            table.name: [dict(row._mapping) for row in await conn.execute(select(table))]
            for table in metadata.sorted_tables
        }


async def test_p2_bot_configuration_plus_database_opens_nothing_the_reporter_wrote(
    database_url: str,
) -> None:
    """Given everything the bot process holds — its settings (notify key, draft key), every
    public key — and a dump of the database with a full-level notify link, when an attacker
    opens the link (as the bot can) to get the reporter seed and tries every key they have on
    every sealed copy of every item the bot writes, then nothing opens: not the report, the
    department, an attachment, nor the reporter's replies."""
    site = await build_site(database_url)
    receipt = new_receipt()
    draft = Draft(
        category="wages",
        text=REPORT_TEXT,
        department="财务部 Finance",
        attachments=(Attachment("attachment-1.pdf", "application/pdf", b"%PDF-1.4 payslips"),),
    )
    submitted = await site.intake.submit(draft, receipt)
    await site.intake.set_notifications(
        submitted.case_id,
        NotifyLevel.FULL,
        chat_id=99,
        language="zh_CN",
        reporter_seed=submitted.reporter_seed,
    )
    await site.casework.triage(
        await site.login("triage1"),
        submitted.reference,
        TriageDecision(routing=Routing.UNION, note="请补充时间"),
    )
    followup = ReporterFollowUp(site.intake)
    assert await followup.reply(receipt, "REPLY 上周六又加班了")
    assert await followup.reply(receipt, "x" * MAX_REPLY_CHARS)
    bot_settings = {"notify_key": site.notify_key, "draft_key": random_bytes(32)}

    dump = await _database_dump(site)
    # Every 32-byte value at rest (public keys, salts, tags) and the bot's own keys ...
    keys_at_hand = [*bot_settings.values()] + [
        bytes(value)
        for rows in dump.values()
        for row in rows
        for value in row.values()
        if isinstance(value, bytes | memoryview) and len(bytes(value)) == 32
    ]
    # ... plus what the notify links open to with the notify key: the reporter seed.
    for link in dump["notify_links"]:
        target = open_link(site.notify_key, link["case_id"], bytes(link["sealed"]))
        assert target.reporter_seed is not None
        keys_at_hand += [target.reporter_seed, reporter_keypair(target.reporter_seed).private]

    bot_kinds = {REPORT_KIND, DEPARTMENT_KIND, ATTACHMENT_KIND, REPLY_KIND}
    items = dump["case_items"]
    assert {i["kind"] for i in items if i["officer_id"] is None} == bot_kinds
    assert len([i for i in items if i["kind"] == REPLY_KIND]) == 2
    for item in items:
        if item["officer_id"] is not None:
            continue
        for column in ("sealed", "sealed_for_reporter"):
            if item[column] is None:
                continue
            for key in keys_at_hand:
                assert not _opens(key, bytes(item[column]), item), (item["kind"], column)
        # Nothing the reporter writes is sealed to the reporter key at all.
        assert item["sealed_for_reporter"] is None, item["kind"]

    # The attack is real: the same keys do open what officers wrote *for* the reporter.
    [note] = [i for i in items if i["kind"] == "note"]
    opened = [key for key in keys_at_hand if _opens(key, bytes(note["sealed_for_reporter"]), note)]
    assert opened
    await site.engine.dispose()


def _opens(key: bytes, sealed: bytes, item: dict[str, Any]) -> bool:
    try:
        open_sealed(key, sealed, Binding(str(item["case_id"]), str(item["kind"]), str(item["id"])))
    except DecryptionError:
        return False
    return True


async def test_status_view_shows_replies_without_text_and_the_not_accepted_reason(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    followup = ReporterFollowUp(site.intake)
    assert await followup.reply(receipt, "REPLY-TEXT 补充")
    await site.casework.triage(
        await site.login("triage1"),
        submitted.reference,
        TriageDecision(not_accepted_reason=NotAcceptedReason.DUPLICATE, note="同 K7Q2-9XMD"),
    )
    view = await site.intake.status(receipt)
    assert view is not None
    assert view.status is ReporterStatus.NOT_ACCEPTED
    assert [(h.status, h.reply, h.reason, h.note) for h in view.history] == [
        (ReporterStatus.RECEIVED, False, None, None),
        (ReporterStatus.NOT_ACCEPTED, True, None, None),
        (ReporterStatus.NOT_ACCEPTED, False, "duplicate", "同 K7Q2-9XMD"),
    ]
    assert "REPLY-TEXT" not in repr(view)
    await site.engine.dispose()


async def test_a_reply_to_a_purged_case_says_so(database_url: str) -> None:
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    async with site.uow() as uow:  # type: ignore[operator]
        await uow.retention.purge_case(submitted.case_id)  # as the retention job does
        await uow.commit()
    assert await ReporterFollowUp(site.intake).reply(receipt, "still there?") is False
    with pytest.raises(InvalidInput):
        await ReporterFollowUp(site.intake).reply(receipt, "x" * (MAX_REPLY_CHARS + 1))
    await site.engine.dispose()


async def test_wrong_password_and_unknown_user_fail_the_same_way(database_url: str) -> None:
    site = await build_site(database_url)
    with pytest.raises(AuthenticationFailed) as wrong_password:
        await site.auth.login("union1", PASSWORD + "x")
    with pytest.raises(AuthenticationFailed) as unknown_user:
        await site.auth.login("nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value)
    await site.engine.dispose()


async def test_wrong_receipt_opens_nothing(database_url: str) -> None:
    site = await build_site(database_url)
    receipt, _ = await site.file_report()
    wrong = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    assert await site.intake.status(wrong) is None
    assert await site.intake.status(receipt) is not None
    await site.engine.dispose()


async def test_recovery_grant_refuses_other_words(database_url: str) -> None:
    site = await build_site(database_url)
    other_words, _ = keys.new_recovery_key()
    with pytest.raises(InvalidInput):
        await site.setup.grant_with_recovery(
            "union", "disc1", other_words, site.fingerprints["disc1"]
        )
    await site.engine.dispose()


async def test_status_change_writes_outbox_and_notifier_reads_the_note(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    await site.intake.set_notifications(
        submitted.case_id,
        NotifyLevel.FULL,
        chat_id=4711,
        language="en",
        reporter_seed=submitted.reporter_seed,
    )
    await site.casework.triage(
        await site.login("triage1"),
        submitted.reference,
        TriageDecision(routing=Routing.JOINT, note="<both> & more"),
    )
    [note] = await site.notifications.claim()
    assert note.target.chat_id == 4711
    assert note.status is ReporterStatus.ACCEPTED
    assert note.note == "<both> & more"
    # Claimed rows are leased: a second worker finds nothing to take.
    assert await site.notifications.claim() == []
    await site.notifications.delivered(note.row_id)
    await site.engine.dispose()


async def test_status_only_link_cannot_read_officer_notes(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    await site.intake.set_notifications(
        submitted.case_id,
        NotifyLevel.STATUS_ONLY,
        chat_id=4711,
        language="en",
        reporter_seed=submitted.reporter_seed,
    )
    await site.casework.triage(
        await site.login("triage1"),
        submitted.reference,
        TriageDecision(routing=Routing.UNION, note="officer words"),
    )
    [note] = await site.notifications.claim()
    assert note.note is None
    assert note.target.reporter_seed is None
    await site.engine.dispose()


async def test_swapped_queue_key_is_refused_when_pinned(database_url: str) -> None:
    """Given someone who can write the database swaps the union queue's public key for their
    own, when triage routes a report to the union, then the pinned process refuses to seal to
    it — the attacker's key never receives the case key."""
    from sqlalchemy import update

    from cases.errors import KeyPinMismatch
    from storage.crypto.primitives import new_keypair
    from storage.db import make_sessionmaker
    from storage.models import Queue
    from storage.repositories import SqlUnitOfWork

    site = await build_site(database_url)
    pin = await site.setup.queue_key_pin()
    _, submitted = await site.file_report()
    attacker = new_keypair()
    async with site.engine.begin() as conn:
        await conn.execute(
            update(Queue).where(Queue.name == "union").values(public_key=attacker.public)
        )
    sessionmaker = make_sessionmaker(site.engine)
    pinned = CaseworkService(lambda: SqlUnitOfWork(sessionmaker, pin))
    with pytest.raises(KeyPinMismatch):
        await pinned.triage(
            await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.UNION)
        )
    pinned_intake = IntakeService(
        lambda: SqlUnitOfWork(sessionmaker, pin),
        KdfPool(1),
        notify_key=site.notify_key,
        blur=BlurPolicy(dt.timedelta(0)),
    )
    with pytest.raises(KeyPinMismatch):
        await pinned_intake.submit(Draft(category="wages", text="new report"), "1" * 16)
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(submitted.reference)
    assert case is not None
    assert case.holders == ("triage",)  # nothing was re-sealed
    await site.engine.dispose()


async def test_recovery_words_grant_no_queue_key_to_administrators_or_overseers(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    for username in ("admin1", "overseer1"):
        with pytest.raises(InvalidInput):
            await site.setup.grant_with_recovery(
                "discipline", username, site.recovery_words, site.fingerprints[username]
            )
    await site.engine.dispose()


def test_visible_after_never_stores_the_second() -> None:
    now = dt.datetime(2026, 12, 3, 18, 42, 46, 660617, tzinfo=dt.UTC)
    urgent = BlurPolicy(dt.timedelta(minutes=20)).visible_after(now, urgent=True)
    assert urgent == dt.datetime(2026, 12, 3, 18, 42, tzinfo=dt.UTC)
    for _ in range(50):
        later = BlurPolicy(dt.timedelta(minutes=20)).visible_after(now)
        assert later.second == later.microsecond == 0
        assert now - dt.timedelta(minutes=1) < later <= now + dt.timedelta(minutes=20)


async def test_p7_a_swapped_case_public_key_is_refused_and_receives_nothing(
    database_url: str,
) -> None:
    """Given someone who can write the database replaces a case's stored public key with their
    own, when officers next note, message, move or open the case, then every step fails loudly
    (DecryptionError) and nothing new is sealed — so nothing opens with the attacker's key."""
    from sqlalchemy import update

    from storage.crypto.primitives import new_keypair
    from storage.models import Case

    site = await build_site(database_url)
    _, routed = await site.file_report()
    _, waiting = await site.file_report()
    triage, union = await site.login("triage1"), await site.login("union1")
    await site.casework.triage(triage, routed.reference, TriageDecision(routing=Routing.UNION))
    await site.casework.internal_note(union, routed.reference, "换钥匙之前的笔记")
    async with site.uow() as uow:  # type: ignore[operator]
        before = {
            i.id
            for case_id in (routed.case_id, waiting.case_id)
            for i in await uow.cases.items(case_id)
        }
    attacker = new_keypair()
    async with site.engine.begin() as conn:
        await conn.execute(update(Case).values(case_public_key=attacker.public))

    steps = [
        site.casework.internal_note(union, routed.reference, "机密：证人姓名"),
        site.casework.message(union, routed.reference, "请补充材料"),
        site.casework.change_status(union, routed.reference, Status.IN_PROGRESS, "正在核实"),
        site.casework.open_case(union, routed.reference),
        site.casework.triage(
            triage, waiting.reference, TriageDecision(routing=Routing.UNION, note="已受理")
        ),
    ]
    for step in steps:
        with pytest.raises(DecryptionError):
            await step

    async with site.uow() as uow:  # type: ignore[operator]
        after = [
            i
            for case_id in (routed.case_id, waiting.case_id)
            for i in await uow.cases.items(case_id)
        ]
        case = await uow.cases.by_reference(waiting.reference)
    assert {i.id for i in after} == before  # nothing was written
    assert case is not None
    assert case.status == Status.RECEIVED
    for item in after:
        with pytest.raises(DecryptionError):
            keys.open_item(attacker.private, item.case_id, item.kind, item.id, item.sealed)
    await site.engine.dispose()


class _CommitFails(SqlNotifyUnitOfWork):
    """A unit of work that does all its writes and then cannot commit (the database went away):
    leaving the block rolls everything back."""

    async def commit(self) -> None:
        raise ConnectionError("lost the database before commit")


async def _outbox(site: Site, case_id: str) -> list[tuple[str, str | None]]:
    """(event status, note item) of every outbox row of a case, oldest first."""
    from sqlalchemy import select

    from storage.models import CaseEvent, OutboxRow

    async with site.engine.connect() as conn:
        rows = await conn.execute(
            select(CaseEvent.status, CaseEvent.note_item_id)
            .join(OutboxRow, OutboxRow.event_id == CaseEvent.id)
            .where(OutboxRow.case_id == case_id)
            .order_by(CaseEvent.position)
        )
        return [(status, note) for status, note in rows]


async def test_outbox_rows_are_written_with_the_change_or_not_at_all(database_url: str) -> None:
    """An officer message, a not-accepted decision and a reopening each leave exactly one
    outbox row with the change; when the transaction does not commit, neither is there."""
    from storage.db import make_sessionmaker

    site = await build_site(database_url)
    broken = WorkflowService(lambda: _CommitFails(make_sessionmaker(site.engine)))
    triage, union = await site.login("triage1"), await site.login("union1")

    _, rejected = await site.file_report()
    decision = TriageDecision(not_accepted_reason=NotAcceptedReason.DUPLICATE, note="重复反映")
    with pytest.raises(ConnectionError):
        await broken.triage(triage, rejected.reference, decision)
    assert await _outbox(site, rejected.case_id) == []
    await site.casework.triage(triage, rejected.reference, decision)
    [(status, note)] = await _outbox(site, rejected.case_id)
    assert status == Status.NOT_ACCEPTED
    assert note is not None

    _, worked = await site.file_report()
    ref = worked.reference
    await site.casework.triage(triage, ref, TriageDecision(routing=Routing.UNION))
    await site.casework.change_status(union, ref, Status.IN_PROGRESS, None)
    await site.casework.close(union, ref, "工资已补发")
    assert len(await _outbox(site, worked.case_id)) == 3
    for attempt in (
        broken.message(union, ref, "请补充材料"),
        broken.reopen(union, ref, "职工反映又欠薪"),
    ):
        with pytest.raises(ConnectionError):
            await attempt
    assert len(await _outbox(site, worked.case_id)) == 3
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(ref)
    assert case is not None
    assert case.status == Status.CLOSED  # the failed reopening changed nothing either

    await site.casework.message(union, ref, "请补充材料")
    await site.casework.reopen(union, ref, "职工反映又欠薪")
    rows = await _outbox(site, worked.case_id)
    assert [status for status, _ in rows[3:]] == [Status.CLOSED, Status.IN_PROGRESS]
    assert all(note is not None for _, note in rows[3:])
    await site.engine.dispose()


async def test_a_disposition_note_is_internal_unless_made_reporter_visible(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    ref = submitted.reference
    triage, union = await site.login("triage1"), await site.login("union1")
    await site.casework.triage(triage, ref, TriageDecision(routing=Routing.UNION))
    await site.casework.change_status(union, ref, Status.IN_PROGRESS, None)
    rows = len(await _outbox(site, submitted.case_id))
    await site.casework.set_disposition(
        union, ref, Disposition.FORMAL_TALK_RECTIFICATION, "拟约谈项目经理"
    )
    assert len(await _outbox(site, submitted.case_id)) == rows  # nothing sent
    view = await site.intake.status(receipt)
    assert view is not None
    assert all(h.note != "拟约谈项目经理" for h in view.history)
    detail = await site.casework.open_case(union, ref)
    [internal] = [i for i in detail.items if i.text == "拟约谈项目经理"]
    assert internal.kind == "internal_note"
    assert not internal.reporter_visible
    assert detail.summary.disposition == Disposition.FORMAL_TALK_RECTIFICATION

    await site.casework.set_disposition(
        union, ref, Disposition.MEDIATION, "工会将组织协调", reporter_visible=True
    )
    assert len(await _outbox(site, submitted.case_id)) == rows + 1
    view = await site.intake.status(receipt)
    assert view is not None
    assert view.history[-1].note == "工会将组织协调"
    await site.engine.dispose()


async def test_opting_in_again_clears_reporter_unreachable(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()

    async def opt(level: NotifyLevel) -> None:
        await site.intake.set_notifications(
            submitted.case_id,
            level,
            chat_id=4712,
            language="en",
            reporter_seed=submitted.reporter_seed,
        )

    await opt(NotifyLevel.FULL)
    await site.casework.triage(
        await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.UNION)
    )
    [note] = await site.notifications.claim()
    await site.notifications.unreachable(note.row_id, submitted.case_id)  # the chat blocked us
    union = await site.login("union1")
    [row] = await site.casework.list_cases(union)
    assert row.reporter_unreachable
    # Opting out keeps the flag: there is still nobody to tell.
    await opt(NotifyLevel.OFF)
    assert (await site.casework.list_cases(union))[0].reporter_unreachable
    await opt(NotifyLevel.STATUS_ONLY)
    [row] = await site.casework.list_cases(union)
    assert not row.reporter_unreachable
    await site.engine.dispose()
