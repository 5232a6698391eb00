"""A stolen officer session redirecting alerts leaves a trail: the code it asked for and the
`/link` typed in the thief's own Telegram chat are both in the audit log, naming the officer —
and the thief's chat id is nowhere in it."""

from __future__ import annotations

from sqlalchemy import select

from bot.devtools.scripted import says
from handlers.i18n import CatalogI18n
from storage.models import AuditRow, Officer
from tests.e2e.conftest import Stack

THIEF_CHAT = 990_777


async def test_link_through_the_bot_is_audited_without_the_chat(stack: Stack) -> None:
    officer = await stack.officer("union1")
    issued = await officer.post("/alerts/link-code")
    await officer.close()
    thief = stack.fake.user(THIEF_CHAT, "Not Union1", username="tg_thief")
    await thief.send_text(f"/link {issued['code']}")
    done = CatalogI18n().gettext("link.done", locale="zh_CN")
    await stack.fake.wait_for_bot_message(THIEF_CHAT, says(done[:12]))

    async with stack.app.storage.engine.connect() as conn:
        union1 = await conn.scalar(select(Officer.id).where(Officer.username == "union1"))
        rows = (
            await conn.execute(
                select(
                    AuditRow.officer_id, AuditRow.action, AuditRow.case_reference, AuditRow.detail
                ).order_by(AuditRow.id)
            )
        ).all()
    assert [(officer_id, action) for officer_id, action, _, _ in rows][-2:] == [
        (union1, "alert_code_issued"),
        (union1, "alert_chat_linked"),
    ]
    for _, _, reference, detail in rows:
        assert str(THIEF_CHAT) not in f"{reference} {detail}"
