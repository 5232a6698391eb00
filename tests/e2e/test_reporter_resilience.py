"""Robustness through the running bot: a restart with Redis, input no step expects, edits of
submitted messages, and the rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import ScriptedReporter, has_button, says
from bot.runner import running
from tests.cases.test_cleaning import jpeg_with_gps
from tests.conftest import REDIS_URL
from tests.e2e.conftest import Stack, initialise, log_in, redis_overrides, stack_settings

LANGS = ["zh-hans", "en"]
STICKER = {
    "sticker": {
        "file_id": "CAAC",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
}
CONTACT = {"contact": {"phone_number": "+8613800000000", "first_name": "Xiaoming"}}


async def test_a_draft_in_redis_resumes_after_the_bot_restarts(
    database_url: str, tmp_path: Path, redis_prefix: str
) -> None:
    redis = pytest.importorskip("redis.asyncio")
    async with FakeBotAPI("123456:TEST-token") as fake:
        settings = stack_settings(
            fake,
            database_url,
            tmp_path,
            **redis_overrides(redis_prefix),
        )
        activated = await initialise(settings)
        r = ScriptedReporter(fake, fake.user(774001, "Xiaoming", language_code="en"), "en")
        async with running(settings, with_bot=True, with_api=False):
            await r.begin_report("integrity", "bribery")
            await r.say("written before the restart", has_button(r.t("button.done")))
        # The bot is gone; its draft is in Redis under our prefix, sealed.
        client = redis.from_url(REDIS_URL)
        stored = [await client.get(k) async for k in client.scan_iter(match=f"{redis_prefix}:*")]
        await client.aclose()
        assert stored
        assert all(b"written before" not in (value or b"") for value in stored)
        async with running(settings, with_bot=True, with_api=True) as app:
            assert app.api_url is not None
            await r.say("written after the restart", has_button(r.t("button.done")))
            filed = await r.finish_report(notify=False)
            officer = await log_in(app.api_url, "triage1", activated)
            detail = await officer.case(filed.reference)
            await officer.close()
        assert detail["report"] == "written before the restart\n\nwritten after the restart"
        assert detail["case"]["category"] == "bribery"
        assert fake.rejections == []


async def test_the_danger_question_resumes_after_the_bot_restarts(
    database_url: str, tmp_path: Path, redis_prefix: str
) -> None:
    async with FakeBotAPI("123456:TEST-token") as fake:
        settings = stack_settings(
            fake,
            database_url,
            tmp_path,
            **redis_overrides(redis_prefix),
            blur_max_minutes=7 * 24 * 60,
        )
        activated = await initialise(settings)
        r = ScriptedReporter(fake, fake.user(774003, "Xiaoming", language_code="en"), "en")
        async with running(settings, with_bot=True, with_api=False):
            await r.say("/start", has_button(r.t("menu.new_report")))
            await r.tap("menu.new_report", has_button(r.t("group.rights")))
            await r.tap("category.not_sure", has_button(r.t("danger.yes")))
        # Restarted while the question is open: its buttons still work, and "yes" still counts.
        async with running(settings, with_bot=True, with_api=True) as app:
            assert app.api_url is not None
            await r.tap("danger.yes", has_button(r.t("handler.none")))
            await r.tap("handler.none", has_button(r.t("department.prefer_not")))
            await r.tap("department.prefer_not", has_button(r.t("button.done")))
            await r.say("the words", has_button(r.t("button.done")))
            filed = await r.finish_report(notify=False)
            officer = await log_in(app.api_url, "triage1", activated)
            [row] = await officer.cases()  # at once, despite a week-long blur
            intake = (await officer.case(filed.reference))["intake"]
            await officer.close()
        assert (row["reference"], row["severity"]) == (filed.reference, "urgent")
        assert intake["urgent_source"] == "reporter"
        assert fake.rejections == []


@pytest.mark.parametrize("language", LANGS)
async def test_stickers_photos_and_contacts_at_every_step_change_nothing(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(774002, language_code=language)
    photo = jpeg_with_gps()

    async def poke(*, photos: bool = True, sticker_key: str = "media.not_here") -> None:
        """Send a sticker, a contact (and a photo) and expect a clear answer to each."""
        sends: list[tuple[Callable[[], Awaitable[Any]], str]] = [
            (lambda: r.user.send_message(**STICKER), sticker_key),
            (lambda: r.user.send_message(**CONTACT), "refuse.contact"),
        ]
        if photos:
            sends.append((lambda: r.user.send_photo(photo), "media.not_here"))
        for send, key in sends:
            mark = r.mark()
            await send()
            answer = await r.expect(lambda _e: True, mark)
            assert answer.text.startswith(r.t(key)[:12]), (key, answer.text)

    await r.say("/start", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("category.not_sure")))
    await poke()  # the category group
    await r.tap("group.integrity", has_button(r.t("category.bribery")))
    await poke()  # the category
    await r.tap("category.bribery", has_button(r.t("danger.yes")))
    await poke()  # anyone in danger
    await r.tap("danger.no", has_button(r.t("handler.none")))
    await poke()  # who it involves
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await poke()  # the department
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await poke(photos=False, sticker_key="report.not_added")  # writing: photos are welcome
    await r.say("the only words", has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))
    await poke()  # the review
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    await poke()  # the receipt
    await r.tap("button.saved", has_button(r.t("notify.full")))
    await r.tap("notify.off", says(r.t("report.clear_chat")[:20]))
    triage = await stack.officer("triage1")
    [row] = await triage.cases()
    assert row["category"] == "bribery"
    assert (await triage.case(row["reference"]))["report"] == "the only words"
    assert await triage.attachments(row["reference"]) == []
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_editing_a_submitted_message_is_explained_and_changes_nothing(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(774003, language_code=language)
    await r.begin_report(None, "other")
    mark = r.mark()
    message_id = await r.user.send_text("what I first wrote")
    await r.expect(has_button(r.t("button.done")), mark)
    filed = await r.finish_report(notify=False)
    mark = r.mark()
    await r.user.edit_text(message_id, "what I wish I had written")
    explained = await r.expect(lambda _e: True, mark)
    assert explained.text == r.t("edit.not_applied")
    triage = await stack.officer("triage1")
    assert (await triage.case(filed.reference))["report"] == "what I first wrote"
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_the_sixth_wrong_receipt_of_an_hour_is_refused(stack: Stack, language: str) -> None:
    r = stack.reporter(774006, language_code=language)
    filed = await r.file_report(None, "other", ["mine"], notify=False)
    await r.say("/status", says(r.t("status.ask_receipt")[:10]))
    for number in range(5):
        wrong = f"1111 2222 3333 {4440 + number}"
        await r.say(wrong, says(r.t("status.not_found")[:20]))
    # The sixth attempt is refused before any check, even with the right receipt.
    refused = await r.say(filed.receipt, says(r.t("rate.receipts")[:15]))
    assert refused.text == r.t("rate.receipts")
    assert r.t("status.done") not in "\n".join(
        e.text for e in stack.fake.bot_messages(r.chat_id) if not e.deleted
    )
