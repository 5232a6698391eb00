"""Replies and notification changes after filing, through the real bot: each derives the
receipt's key (Argon2) and each reply stores an item, so both are capped — per chat per hour,
with every receipt check in the global per-minute cap, and per case per day. A refusal says
to wait and loses nothing the reporter already sent."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import ScriptedReporter, has_button, says
from cases.status_view import REPLY_KIND
from tests.e2e.conftest import TOKEN, Stack, running_stack, stack_settings


@asynccontextmanager
async def limited_stack(database_url: str, tmp_path: Path, **limits: int) -> AsyncIterator[Stack]:
    async with FakeBotAPI(TOKEN) as fake:
        settings = stack_settings(fake, database_url, tmp_path, **limits)
        async with running_stack(fake, settings) as stack:
            yield stack
        assert fake.rejections == [], f"Telegram would have refused: {fake.rejections}"


async def replies_stored(stack: Stack, reference: str) -> int:
    async with stack.app.storage.uow() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None
        items = await uow.cases.items(case.id)
    return sum(1 for item in items if item.kind == REPLY_KIND)


async def open_replies(r: ScriptedReporter, receipt: str) -> None:
    """/status → receipt → Reply: the reply step."""
    await r.say("/status", says(r.t("status.ask_receipt")[:10]))
    await r.say(receipt, has_button(r.t("status.reply_button")))
    await r.tap("status.reply_button", says(r.t("status.ask_reply")[:8]))


async def _clear_of_minute_boundary(margin: float) -> None:
    """The global cap counts per UTC minute: start a short sequence well inside one."""
    now = dt.datetime.now(dt.UTC)
    second = now.second + now.microsecond / 1e6
    if second > 60 - margin:
        await asyncio.sleep(60 - second + 0.2)


async def test_a_chat_flooding_replies_is_told_to_wait_and_keeps_what_it_sent(
    database_url: str, tmp_path: Path
) -> None:
    """Given a chat's hourly allowance of three replies or notification changes, when it
    sends a fourth, then it is told to wait, nothing of it is stored, the replies before it
    stay, and the reply step (with the receipt) stays open; a notification change is refused
    the same way; another chat is not affected."""
    async with limited_stack(
        database_url, tmp_path, followups_per_chat_per_hour=3, receipt_checks_per_minute=100
    ) as stack:
        r = stack.reporter(775301, language_code="zh-hans")
        filed = await r.file_report(None, "other", ["加班费的事"], notify=False)
        await open_replies(r, filed.receipt)
        await r.say("REPLY-ONE", says(r.t("status.reply_saved")))
        await r.say("REPLY-TWO", says(r.t("status.reply_saved")))
        await r.tap("button.done", has_button(r.t("status.notify_button")))
        await r.tap("status.notify_button", has_button(r.t("notify.status_only")))
        await r.tap("notify.status_only", says(r.t("status.notify_changed")))

        await r.tap("status.reply_button", says(r.t("status.ask_reply")[:8]))
        wait = await r.say("REPLY-THREE", says(r.t("status.reply_wait")))
        assert wait.text == r.t("status.reply_wait")
        assert has_button(r.t("button.back"))(wait)
        # Still in the reply step with the receipt: the next message is refused the same way,
        # not taken for a receipt or a new report.
        await r.say("REPLY-FOUR", says(r.t("status.reply_wait")))
        assert await replies_stored(stack, filed.reference) == 2

        await r.tap("button.back", has_button(r.t("status.notify_button")))
        await r.tap("status.notify_button", has_button(r.t("notify.full")))
        refused = await r.tap("notify.full", says(r.t("status.notify_wait")))
        assert has_button(r.t("status.reply_button"))(refused)

        other = stack.reporter(775302, language_code="en")
        other_filed = await other.file_report(None, "other", ["overtime"], notify=False)
        await open_replies(other, other_filed.receipt)
        await other.say("OTHER-REPLY", says(other.t("status.reply_saved")))
        assert await replies_stored(stack, other_filed.reference) == 1


async def test_replies_count_in_the_global_per_minute_cap(
    database_url: str, tmp_path: Path
) -> None:
    """Given a global cap of three receipt derivations a minute, when a receipt check and two
    replies have spent it, then the next reply is told to try again in a minute."""
    async with limited_stack(database_url, tmp_path, receipt_checks_per_minute=3) as stack:
        r = stack.reporter(775401, language_code="en")
        filed = await r.file_report(None, "other", ["unpaid overtime"], notify=False)
        await _clear_of_minute_boundary(margin=30)
        await open_replies(r, filed.receipt)
        await r.say("REPLY-ONE", says(r.t("status.reply_saved")))
        await r.say("REPLY-TWO", says(r.t("status.reply_saved")))
        busy = await r.say("REPLY-THREE", says(r.t("status.reply_busy")))
        assert busy.text == r.t("status.reply_busy")
        assert await replies_stored(stack, filed.reference) == 2


async def test_a_case_takes_only_so_many_replies_a_day_from_any_chat(
    database_url: str, tmp_path: Path
) -> None:
    """Given a cap of two replies per case a day, when the reporter (and then someone else
    with the same receipt, in another chat) sends a third, then it is refused with the cap
    named and nothing more is stored."""
    async with limited_stack(database_url, tmp_path, replies_per_case_per_day=2) as stack:
        r = stack.reporter(775501, language_code="zh-hans")
        filed = await r.file_report(None, "other", ["食堂卫生"], notify=False)
        await open_replies(r, filed.receipt)
        await r.say("REPLY-ONE", says(r.t("status.reply_saved")))
        await r.say("REPLY-TWO", says(r.t("status.reply_saved")))
        expected = r.t("status.reply_limit").format(limit=2)
        full = await r.say("REPLY-THREE", says(expected[:12]))
        assert full.text == expected
        assert "2" in full.text

        elsewhere = stack.reporter(775502, language_code="en")
        await open_replies(elsewhere, filed.receipt)
        await elsewhere.say(
            "FROM-ANOTHER-CHAT", says(elsewhere.t("status.reply_limit").format(limit=2))
        )
        assert await replies_stored(stack, filed.reference) == 2
