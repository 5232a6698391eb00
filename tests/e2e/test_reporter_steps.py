"""Each reporter screen under the input people really send: typing where buttons are
expected, edits, double taps, a first message without /start, captions on refused files,
Back and the review's summary, and many photos at once."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import ScriptedReporter, has_button, says
from bot.runner import running
from cases import cleaning
from tests.cases.test_cleaning import jpeg_with_gps
from tests.e2e.conftest import Stack, initialise, log_in, stack_settings

LANGS = ["zh-hans", "en"]
NASTY = "<b>不</b> & *markdown* _x_ [a](b) `c` 😀"
NOT_MODIFIED = "message is not modified"


@pytest.mark.parametrize("language", LANGS)
async def test_typing_at_a_button_step_shows_the_step_again_and_keeps_the_draft(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(777001, language_code=language)
    keep_going = r.t("step.use_buttons")

    async def type_at_step(step_button: str) -> None:
        """Typed text where a button is expected: the same step's buttons, nothing lost."""
        again = await r.say(NASTY, says(keep_going))
        assert has_button(r.t(step_button))(again), again
        assert r.t("fallback.message") not in again.text

    await r.say("/start", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await type_at_step("group.rights")
    await r.tap("group.rights", has_button(r.t("category.wages")))
    await type_at_step("category.wages")
    await r.tap("category.wages", has_button(r.t("danger.yes")))
    await type_at_step("danger.not_sure")
    await r.tap("danger.no", has_button(r.t("handler.none")))
    await type_at_step("handler.union")
    await r.tap("handler.discipline", has_button(r.t("handler.route_overseer")))
    await type_at_step("handler.route_overseer")
    await r.tap("handler.route_overseer", has_button(r.t("department.prefer_not")))
    await type_at_step("department.prefer_not")
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await r.say("the words of the report", has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))
    await type_at_step("button.confirm")
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    await type_at_step("button.saved")
    await r.tap("button.saved", has_button(r.t("notify.full")))
    # After the commit too: the notification choice is shown again.
    again = await r.say("thanks", says(r.t("notify.use_buttons")))
    assert has_button(r.t("notify.full"))(again)
    await r.tap("notify.off", says(r.t("report.clear_chat")[:20]))
    triage = await stack.officer("triage1")
    [row] = await triage.cases()
    detail = await triage.case(row["reference"])
    assert detail["report"] == "the words of the report"
    assert row["category"] == "wages"
    assert detail["intake"]["handler_route"] == "overseer"
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_a_first_message_or_thanks_gets_the_welcome_not_an_expired_draft(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(777002, language_code=language)
    note = r.t("draft.kept_note").format(duration=r.t("duration.hours").format(count=2))
    welcome = await r.say("你好 hello", has_button(r.t("menu.new_report")))
    assert note in welcome.text
    assert r.t("draft.expired")[:10] not in welcome.text
    await r.file_report(None, "other", ["filed"], notify=False)
    thanks = await r.say("thanks 谢谢", has_button(r.t("menu.new_report")))
    assert note in thanks.text
    assert r.t("draft.expired")[:10] not in thanks.text


@pytest.mark.parametrize("language", LANGS)
async def test_editing_while_drafting_is_not_taken_and_says_so(stack: Stack, language: str) -> None:
    r = stack.reporter(777003, language_code=language)
    await r.begin_report(None, "other")
    mark = r.mark()
    message_id = await r.user.send_text("the first words")
    await r.expect(has_button(r.t("button.done")), mark)
    mark = r.mark()
    await r.user.edit_text(message_id, "corrected words")
    explained = await r.expect(lambda _e: True, mark)
    assert explained.text == r.t("edit.drafting")
    await r.say("the correction", has_button(r.t("button.done")))
    filed = await r.finish_report(notify=False)
    # Once filed, an edit points to Check status, with its button.
    mark = r.mark()
    await r.user.edit_text(message_id, "edited after filing")
    explained = await r.expect(lambda _e: True, mark)
    assert explained.text == r.t("edit.not_applied")
    assert has_button(r.t("menu.check_status"))(explained)
    await r.tap("menu.check_status", says(r.t("status.ask_receipt")[:10]))
    triage = await stack.officer("triage1")
    assert (await triage.case(filed.reference))["report"] == "the first words\n\nthe correction"
    await triage.close()


def _button_data(stack: Stack, r: ScriptedReporter, label: str) -> tuple[str, int]:
    """The callback data and message of the newest button labelled `label`."""
    for entry in reversed(stack.fake.bot_messages(r.chat_id)):
        for text, data in (b for row in entry.buttons for b in row):
            if text == label and not entry.deleted:
                return data, entry.message_id
    raise LookupError(label)


async def _double_tap(stack: Stack, r: ScriptedReporter, label: str) -> list[str]:
    """Two presses of one button before the screen changes, as a quick thumb does."""
    data, message_id = _button_data(stack, r, label)
    queries = [await r.user.press_data(data, message_id) for _ in range(2)]
    for _ in range(200):
        if all(r.user.answered(q) for q in queries):
            break
        await asyncio.sleep(0.05)
    return queries


@pytest.mark.parametrize("language", LANGS)
async def test_double_taps_are_harmless(stack: Stack, language: str) -> None:
    r = stack.reporter(777004, language_code=language)
    await r.say("/start", has_button(r.t("menu.new_report")))
    for label in ("menu.privacy", "menu.language"):
        queries = await _double_tap(stack, r, r.t(label))
        assert all(r.user.answered(q) for q in queries)
    await r.tap("button.cancel", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    queries = await _double_tap(stack, r, r.t("button.cancel"))
    assert all(r.user.answered(q) for q in queries)
    await asyncio.sleep(0.3)  # anything the second presses would still send
    texts = [e.text for e in stack.fake.bot_messages(r.chat_id)]
    assert r.t("error.generic") not in texts
    # Telegram refused the identical edits, as it does; the bot took that in its stride.
    refused = [c for c in stack.fake.rejections if NOT_MODIFIED in (c.description or "")]
    assert len(refused) == 3
    stack.fake.rejections[:] = [c for c in stack.fake.rejections if c not in refused]
    await r.tap("menu.new_report", has_button(r.t("group.rights")))


@pytest.mark.parametrize("language", LANGS)
async def test_the_caption_of_a_refused_file_is_kept_and_said_so(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(777005, language_code=language)
    await r.begin_report(None, "other")
    await r.say("before", has_button(r.t("button.done")))
    mark = r.mark()
    await r.user.send_document(b"MZ\x90\x00 not a document", "tool.exe", caption=NASTY)
    refused = await r.expect(says(r.t("file.refused.type")[:12]), mark)
    assert r.t("file.caption_kept") in refused.text
    mark = r.mark()
    video = {"file_id": "V1", "file_unique_id": "uV1", "width": 8, "height": 8, "duration": 1}
    await r.user.send_message(video=video, caption="the video's caption")
    refused = await r.expect(says(r.t("report.not_added")[:12]), mark)
    assert r.t("file.caption_kept") in refused.text
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == f"before\n\n{NASTY}\n\nthe video's caption"
    assert await triage.attachments(filed.reference) == []
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_back_returns_to_the_kinds_and_the_review_shows_every_answer(
    database_url: str, tmp_path: Path, language: str
) -> None:
    department = "<研发> & R&D 😀"
    async with FakeBotAPI("123456:TEST-token") as fake:
        settings = stack_settings(fake, database_url, tmp_path, departments=[department])
        activated = await initialise(settings)
        locale = "en" if language == "en" else "zh_CN"
        r = ScriptedReporter(fake, fake.user(777006, "Xiaoming", language_code=language), locale)
        async with running(settings, with_bot=True, with_api=True) as app:
            await r.say("/start", has_button(r.t("menu.new_report")))
            await r.tap("menu.new_report", has_button(r.t("group.integrity")))
            await r.tap("group.integrity", has_button(r.t("category.bribery")))
            await r.tap("category.bribery", has_button(r.t("danger.yes")))
            # Back from "anyone in danger" is the kinds of the chosen group.
            await r.tap("button.back", has_button(r.t("category.bribery")))
            await r.tap("category.procurement", has_button(r.t("danger.yes")))
            await r.tap("danger.not_sure", has_button(r.t("handler.none")))
            await r.tap("handler.discipline", has_button(r.t("handler.route_union")))
            await r.tap("handler.route_union", has_button(r.t("department.prefer_not")))
            # Back from the department is the question just answered.
            await r.tap("button.back", has_button(r.t("handler.route_union")))
            await r.tap("handler.route_union", has_button(department))
            mark = r.mark()
            await r.user.press(department)
            await r.expect(has_button(r.t("button.done")), mark)
            await r.say("the tender was rigged", has_button(r.t("button.done")))
            mark = r.mark()
            await r.user.send_photo(jpeg_with_gps())
            await r.expect(has_button(r.t("button.done")), mark)
            summary = await r.tap("button.done", has_button(r.t("button.confirm")))
            for shown in (
                r.t("category.procurement"),
                r.t("danger.review_not_sure"),
                r.t("handler.discipline"),
                r.t("handler.route_union"),
                department,
            ):
                assert shown in summary.text
            # Rewrite says that the file goes too, and it does.
            rewritten = await r.tap("button.edit", has_button(r.t("button.done")))
            assert rewritten.text == r.t("report.rewrite_files").format(count=1)
            await r.say("rewritten words", has_button(r.t("button.done")))
            filed = await r.finish_report(notify=False)
            assert app.api_url is not None
            officer = await log_in(app.api_url, "triage1", activated)
            detail = await officer.case(filed.reference)
            assert detail["report"] == "rewritten words"
            assert await officer.attachments(filed.reference) == []
            assert detail["intake"]["handler_route"] == "union"
            # "Not sure" is stored as said, and makes nothing urgent by itself.
            assert detail["intake"]["reporter_danger"] == "not_sure"
            assert detail["intake"]["urgent_source"] is None
            assert detail["case"]["severity"] == "normal"
            await officer.close()
        assert fake.rejections == []


@pytest.fixture
def cleanings_at_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The real cleaning, made slow enough to overlap; records how many ran at once."""
    real = cleaning.clean
    lock, running_now, peaks = threading.Lock(), [0], [0]

    def slow_clean(*args: object, **kwargs: object) -> object:
        with lock:
            running_now[0] += 1
            peaks[0] = max(peaks[0], running_now[0])
        try:
            time.sleep(0.4)
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running_now[0] -= 1

    monkeypatch.setattr("handlers.report_files.clean", slow_clean)
    return peaks


async def test_cleanings_at_once_are_bounded_by_the_setting(
    database_url: str, tmp_path: Path, cleanings_at_once: list[int]
) -> None:
    async with FakeBotAPI("123456:TEST-token") as fake:
        settings = stack_settings(fake, database_url, tmp_path, cleaning_concurrency=1)
        await initialise(settings)
        reporters = [
            ScriptedReporter(fake, fake.user(777100 + n, "R", language_code="en"), "en")
            for n in range(3)
        ]
        async with running(settings, with_bot=True, with_api=False):
            for r in reporters:
                await r.begin_report(None, "other")
            marks = [r.mark() for r in reporters]
            for r in reporters:
                await r.user.send_photo(jpeg_with_gps())
            for r, mark in zip(reporters, marks, strict=True):
                added = await r.expect(says("attachment-1.jpg"), mark)
                assert has_button(r.t("button.done"))(added)
        assert fake.rejections == []
    assert cleanings_at_once == [1]
