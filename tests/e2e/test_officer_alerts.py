"""Officer alerts end to end: a code from the admin API, `/link` in Telegram, and an urgent
report filed through the bot reaching the linked officers' chats — with the case reference,
queue, severity and due date, and nothing the reporter wrote or is."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.devtools.fake_types import ChatEntry
from bot.devtools.scripted import says
from cases.deadlines import DeadlinePolicy, Deadlines
from cases.runtime import utcnow
from handlers.i18n import CatalogI18n
from storage.models_notify import OfficerChat
from tests.e2e.conftest import Stack

URGENT_REPORT = "三号车间燃气泄漏，已经有两个人头晕恶心了，主管说别声张继续干活。张三 13800138000"
I18N = CatalogI18n()


def t(key: str, locale: str = "zh_CN") -> str:
    return I18N.gettext(key, locale=locale)


async def link(stack: Stack, username: str, user_id: int) -> None:
    """The officer asks the admin API for a code and types `/link CODE` to the bot."""
    officer = await stack.officer(username)
    issued = await officer.post("/alerts/link-code")
    assert len(issued["code"]) == 9
    user = stack.fake.user(user_id, f"Officer {username}", username=f"tg_{username}")
    await user.send_text(f"/link {issued['code']}")
    await stack.fake.wait_for_bot_message(user_id, says(t("link.done")[:12]))
    await officer.close()


async def chat_ids(stack: Stack) -> dict[str, int]:
    async with stack.app.storage.engine.connect() as conn:
        rows = await conn.execute(select(OfficerChat.officer_id, OfficerChat.chat_id))
        return {officer_id: chat_id for officer_id, chat_id in rows}


async def test_urgent_report_reaches_linked_officers_without_content(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    await link(stack, "triage1", 990001)
    await link(stack, "union1", 990002)
    assert sorted((await chat_ids(stack)).values()) == [990001, 990002]

    reporter = stack.reporter(770101, username="secret_reporter_handle")
    filed = await reporter.file_report(None, "other", [URGENT_REPORT])

    def about_case(entry: ChatEntry) -> bool:
        return filed.reference in entry.text

    alert = await stack.fake.wait_for_bot_message(990001, about_case, timeout=15)
    due = Deadlines(DeadlinePolicy()).triage_due(utcnow().date())
    assert t("alert_kind.urgent") in alert.text
    assert t("alert_queue.triage") in alert.text
    assert t("alert_severity.urgent") in alert.text
    assert due.isoformat() in alert.text
    # The union holds nothing yet: no alert there.
    assert not [e for e in stack.fake.bot_messages(990002) if about_case(e)]

    # Triage routes it to the union, still urgent: the union's linked member is alerted too.
    triage = await stack.officer("triage1")
    await triage.triage(filed.reference, routing="union", severity="urgent")
    union_alert = await stack.fake.wait_for_bot_message(990002, about_case, timeout=15)
    assert t("alert_queue.union") in union_alert.text

    # Attack: nothing the reporter wrote, and nothing that identifies them, is in any alert.
    alerts = "\n".join(e.text for chat in (990001, 990002) for e in stack.fake.bot_messages(chat))
    for secret in (
        URGENT_REPORT[:8],
        "燃气",
        "13800138000",
        "张三",
        "secret_reporter_handle",
        "Xiaoming",
        "Wangsurname",
        str(reporter.chat_id),
    ):
        assert secret not in alerts
    # The officers' chat ids are stored, never logged (by the product or aiogram; the database
    # drivers' DEBUG statement echo is not something a deployment runs).
    logged = "\n".join(
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith(("aiosqlite", "sqlalchemy", "asyncpg"))
    )
    assert "990001" not in logged
    assert "990002" not in logged

    # Each officer was alerted about the case exactly once.
    assert len([e for e in stack.fake.bot_messages(990001) if about_case(e)]) == 1
    await triage.close()


async def test_codes_work_once_wrong_ones_are_throttled_and_unlink_stops_alerts(
    stack: Stack,
) -> None:
    officer = await stack.officer("disc1")
    issued = await officer.post("/alerts/link-code")
    user = stack.fake.user(990003, "Officer disc1")

    # The bare command explains itself; a wrong code is refused clearly.
    await user.send_text("/link")
    await stack.fake.wait_for_bot_message(990003, says(t("link.usage")[:12]))
    mark = max(e.sequence for e in stack.fake.chat(990003))
    await user.send_text("/link ZZZZ-ZZZZ")
    await stack.fake.wait_for_bot_message(990003, says(t("link.invalid")[:12]), after=mark)

    # In a group the bot reads nothing: the code is neither used nor linked there.
    group = stack.fake.group(-100990009, "Discipline office")
    await group.send_text(user, f"/link {issued['code']}")
    await stack.fake.wait_for_bot_message(-100990009, says(t("chat.private_only")[:8]))
    assert -100990009 not in (await chat_ids(stack)).values()

    await user.send_text(f"/link {issued['code'].lower()}")
    await stack.fake.wait_for_bot_message(990003, says(t("link.done")[:12]))
    assert 990003 in (await chat_ids(stack)).values()

    # Used once: another chat cannot take it over with the same code.
    other = stack.fake.user(990004, "Someone else")
    await other.send_text(f"/link {issued['code']}")
    await stack.fake.wait_for_bot_message(990004, says(t("link.invalid")[:12]))

    # Guessing is throttled: after 5 wrong codes even a valid one is not tried.
    fresh = await officer.post("/alerts/link-code")
    for _ in range(4):
        mark = max(e.sequence for e in stack.fake.chat(990004))
        await other.send_text("/link AAAA-AAAA")
        await stack.fake.wait_for_bot_message(990004, says(t("link.invalid")[:12]), after=mark)
    mark = max(e.sequence for e in stack.fake.chat(990004))
    await other.send_text(f"/link {fresh['code']}")
    await stack.fake.wait_for_bot_message(990004, says(t("link.throttled")[:12]), after=mark)
    assert 990004 not in (await chat_ids(stack)).values()

    # Unlinking forgets the chat.
    response = await officer.http.delete("/api/v1/alerts/link")
    assert response.status_code == 204
    assert 990003 not in (await chat_ids(stack)).values()
    await officer.close()
