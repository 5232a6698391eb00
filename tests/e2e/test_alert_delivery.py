"""Officer alerts through the notifier against the fake Bot API, with the alert clock in hand:
the blur delay, the daily digest, transfer requests, supergroup migration and blocked chats."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.alert_channel import AlertChannel, render_alert
from bot.notifier import Notifier
from cases.alert_delivery import AlertDeliveryService, OfficerAlert
from cases.alert_links import AlertLinkService, LinkResult
from cases.alerts import AlertService, AlertSettings, TransferAlert
from cases.casework import TriageDecision
from cases.categories import Routing
from cases.deadlines import WorkingCalendar
from cases.lifecycle import Status
from cases.runtime import utcnow
from cases.transfers import TransferService
from handlers.i18n import CatalogI18n
from storage.models import Case
from storage.models_notify import AlertRow, OfficerChat
from tests.e2e.notify_rig import FAST, Rig, notify_rig
from tests.factories import REPORT_TEXT

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    async with notify_rig(database_url) as made:
        yield made


async def link(rig: Rig, username: str, chat_id: int, *, group: bool = False) -> None:
    """Link `chat_id` for `username` through the real code path (the code, then /link)."""
    if group:
        rig.fake.group(chat_id, "Alerts team")
    else:
        await rig.fake.user(chat_id, f"Officer {username}").send_text("/start")
    links = AlertLinkService(rig.uow)
    issued = await links.new_code(await rig.site.login(username))
    assert await links.link(issued.code, chat_id, "zh_CN") is LinkResult.LINKED


def alert_notifier(rig: Rig, clock: Clock | None = None) -> Notifier:
    """A notifier with only the alert channel; `clock` is the alerts' clock, if not real time."""
    delivery = AlertDeliveryService(rig.uow, clock=clock or utcnow)
    return Notifier(rig.bot, [AlertChannel(delivery, rig.i18n)], FAST)


async def alert_outcomes(rig: Rig) -> dict[str, str | None]:
    async with rig.site.engine.connect() as conn:
        rows = await conn.execute(select(AlertRow.id, AlertRow.outcome))
        return {row_id: outcome for row_id, outcome in rows}


async def settle(rig: Rig, notifier: Notifier) -> dict[str, str | None]:
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        for _ in range(400):
            outcomes = await alert_outcomes(rig)
            if outcomes and all(o is not None for o in outcomes.values()):
                return outcomes
            await asyncio.sleep(0.05)
        raise TimeoutError(f"alerts still pending: {await alert_outcomes(rig)}")
    finally:
        stop.set()
        await task


async def set_case(rig: Rig, reference: str, **values: object) -> None:
    async with rig.site.engine.begin() as conn:
        await conn.execute(update(Case).where(Case.reference == reference).values(**values))


async def test_new_case_alert_fires_once_after_the_blur_delay(rig: Rig) -> None:
    await link(rig, "triage1", 880001)
    _, filed = await rig.site.file_report(text="车间噪音太大，耳朵疼")
    now = utcnow()
    await set_case(rig, filed.reference, visible_after=now + dt.timedelta(minutes=12))
    clock = Clock(now)
    alerts = AlertService(rig.uow, clock=clock)

    assert await alerts.scan() == 0  # still blurred: officers cannot see it, nor hear of it
    clock.now = now + dt.timedelta(minutes=12, seconds=1)
    assert await alerts.scan() == 1
    assert await alerts.scan() == 0
    clock.now += dt.timedelta(minutes=30)
    assert await alerts.scan() == 0

    assert list((await settle(rig, alert_notifier(rig, clock))).values()) == ["sent"]
    [message] = rig.fake.bot_messages(880001)[-1:]
    assert filed.reference in message.text
    assert "新案件待研判" in message.text
    assert "联合研判" in message.text
    assert "噪音" not in message.text
    assert len([e for e in rig.fake.bot_messages(880001) if filed.reference in e.text]) == 1


async def test_digest_lists_due_soon_and_overdue_once_per_day(rig: Rig) -> None:
    await link(rig, "triage1", 880002)
    await link(rig, "union1", 880003)  # holds none of these cases: gets no digest
    # Tomorrow 09:00 in Shanghai, after the default digest hour (08:00).
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
    clock = Clock(dt.datetime.combine(day, dt.time(7, 30), SHANGHAI).astimezone(dt.UTC))
    alerts = AlertService(rig.uow, settings=AlertSettings(digest_hour=8), clock=clock)
    references = []
    for _ in range(3):
        _, filed = await rig.site.file_report()
        references.append(filed.reference)
    overdue, soon, later = references
    calendar = WorkingCalendar()
    await set_case(rig, overdue, due_on=day - dt.timedelta(days=3))
    await set_case(rig, soon, due_on=calendar.add_working_days(day, 2))
    await set_case(rig, later, due_on=calendar.add_working_days(day, 3))

    assert await alerts.digest() == 0  # before the digest hour
    clock.now += dt.timedelta(hours=1)
    assert await alerts.digest() == 1
    assert await alerts.digest() == 0  # once per day
    clock.now += dt.timedelta(hours=12)
    assert await alerts.digest() == 0

    assert list((await settle(rig, alert_notifier(rig, clock))).values()) == ["sent"]
    [digest] = rig.fake.bot_messages(880002)
    assert day.isoformat() in digest.text
    overdue_part, soon_part = digest.text.split("2 个工作日内到期")
    assert overdue in overdue_part
    assert "已逾期" in overdue_part
    assert soon in soon_part
    assert later not in digest.text
    assert REPORT_TEXT[:6] not in digest.text
    assert rig.fake.bot_messages(880003) == []

    # The next day, from the digest hour on, a new digest.
    clock.now += dt.timedelta(hours=12)
    assert await alerts.digest() == 1


async def test_transfer_request_alerts_the_receiving_queue_once(rig: Rig) -> None:
    await link(rig, "triage1", 880004)
    await link(rig, "union1", 880005)
    _, filed = await rig.site.file_report()
    alerts = AlertService(rig.uow)
    respond_by = dt.date(2031, 5, 9)
    transfer = TransferAlert("t-1", filed.reference, "union", "high", respond_by)

    assert await alerts.transfer_requested(transfer) == 1
    assert await alerts.transfer_requested(transfer) == 0
    # Inside the caller's transaction: nothing is queued unless the caller commits.
    async with rig.uow() as uow:
        assert (
            await alerts.transfer_requested(
                TransferAlert("t-2", "X", "union", "high", respond_by), uow
            )
            == 1
        )
    assert len(await alert_outcomes(rig)) == 1

    await settle(rig, alert_notifier(rig))
    [message] = rig.fake.bot_messages(880005)
    assert filed.reference in message.text
    assert "线索移交请求" in message.text
    assert "工会" in message.text
    assert "较高" in message.text
    assert "2031-05-09" in message.text
    assert rig.fake.bot_messages(880004) == []


async def test_a_real_transfer_request_is_alerted_by_the_scan_and_the_digest(rig: Rig) -> None:
    await link(rig, "union1", 880010)  # the sender's queue: not alerted
    await link(rig, "disc1", 880011)
    site = rig.site
    _, filed = await site.file_report()
    await site.casework.triage(
        await site.login("triage1"), filed.reference, TriageDecision(routing=Routing.UNION)
    )
    union = await site.login("union1")
    await site.casework.change_status(union, filed.reference, Status.IN_PROGRESS, None)
    feedback = "涉及项目负责人收受回扣，请纪检处置"
    sent = await TransferService(site.uow).request(  # type: ignore[arg-type]
        union, filed.reference, "discipline", feedback
    )
    # The digest runs on the day the answer is due, after the digest hour.
    due_day = dt.datetime.combine(sent.respond_by, dt.time(9), SHANGHAI).astimezone(dt.UTC)
    clock = Clock(due_day)
    alerts = AlertService(rig.uow, clock=clock)

    assert await alerts.scan() == 1
    assert await alerts.scan() == 0
    assert await alerts.digest() == 1  # disc1 only: the case is due later for union1
    assert list((await settle(rig, alert_notifier(rig, clock))).values()) == ["sent", "sent"]
    digest, request = sorted(
        rig.fake.bot_messages(880011), key=lambda m: "移交请求：" not in m.text
    )
    assert "线索移交请求" in request.text
    assert filed.reference in request.text
    assert sent.respond_by.isoformat() in request.text
    assert f"移交请求：{filed.reference}" in digest.text
    for text in (request.text, digest.text):
        assert feedback[:6] not in text
        assert REPORT_TEXT[:6] not in text
    assert rig.fake.bot_messages(880010) == []

    # Once answered, the transfer is no longer alerted or listed.
    await TransferService(site.uow).accept(await site.login("disc1"), sent.id)  # type: ignore[arg-type]
    next_day = AlertService(rig.uow, clock=Clock(due_day + dt.timedelta(days=1)))
    assert await next_day.scan() == 0


async def test_supergroup_migration_moves_the_chat_and_delivers_there(rig: Rig) -> None:
    await link(rig, "union1", -100880006, group=True)
    rig.fake.migrate_to_supergroup(-100880006, -100880999)
    alerts = AlertService(rig.uow)
    due = dt.date(2031, 1, 6)
    await alerts.transfer_requested(TransferAlert("t-3", "ABCD-EFGH", "union", "normal", due))

    assert list((await settle(rig, alert_notifier(rig))).values()) == ["sent"]
    [moved] = rig.fake.bot_messages(-100880999)
    assert "ABCD-EFGH" in moved.text
    assert rig.fake.bot_messages(-100880006) == []
    async with rig.site.engine.connect() as conn:
        chats = list(await conn.scalars(select(OfficerChat.chat_id)))
    assert chats == [-100880999]
    # Telegram's answer for the old id was the one refusal, and the expected one.
    [refused] = rig.fake.rejections
    assert refused.chat_id == -100880006
    assert "supergroup" in (refused.description or "")
    rig.fake.rejections.clear()

    # Later alerts go straight to the new id.
    await alerts.transfer_requested(TransferAlert("t-4", "JKMN-PQRS", "union", "normal", due))
    await settle(rig, alert_notifier(rig))
    assert any("JKMN-PQRS" in e.text for e in rig.fake.bot_messages(-100880999))


async def test_blocked_officer_chat_is_unlinked_and_the_worker_goes_on(rig: Rig) -> None:
    await link(rig, "triage1", 880007)
    await link(rig, "union1", 880008)
    rig.fake.user(880007, "Officer triage1").blocked = True
    _, filed = await rig.site.file_report()
    await set_case(rig, filed.reference, severity="urgent")
    alerts = AlertService(rig.uow)
    await alerts.scan()  # urgent, held by triage: to the blocked chat
    await alerts.transfer_requested(
        TransferAlert("t-5", filed.reference, "union", "urgent", dt.date(2031, 1, 6))
    )

    outcomes = sorted(o or "" for o in (await settle(rig, alert_notifier(rig))).values())
    assert outcomes == ["sent", "unreachable"]
    assert [e for e in rig.fake.bot_messages(880008) if filed.reference in e.text]
    async with rig.site.engine.connect() as conn:
        chats = list(await conn.scalars(select(OfficerChat.chat_id)))
    assert chats == [880008]
    # No more alerts are queued for the unlinked officer.
    _, second = await rig.site.file_report()
    await set_case(rig, second.reference, severity="urgent")
    assert await alerts.scan() == 0


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_alert_renders_translated(locale: str) -> None:
    i18n = CatalogI18n()
    item = {"reference": "ABCD-EFGH", "queue": "discipline", "severity": "high", "due": None}
    for kind in ("urgent", "new_case", "transfer"):
        text = render_alert(OfficerAlert("r", kind, 1, locale, item), i18n)
        assert "alert" not in text
        assert "ABCD-EFGH" in text
    transfer = {**item, "kind": "transfer", "due": "2031-01-02", "overdue": False}
    digest = {
        "day": "2031-01-06",
        "items": [{**item, "due": "2031-01-01", "overdue": True}, transfer],
    }
    text = render_alert(OfficerAlert("r", "digest", 1, locale, digest), i18n)
    assert "alert" not in text
    assert "2031-01-01" in text
    assert "2031-01-02" in text
