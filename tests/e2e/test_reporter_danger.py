""" "Is anyone in danger right now?" through the running bot: a "yes" is urgent at once, a "no"
waits out the timing blur, and the step behaves like every other step (Back, Cancel, typing,
double taps, duplicate deliveries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import ScriptedReporter, has_button, says
from cases.danger import Danger
from handlers.common import PickDanger
from tests.e2e.conftest import TOKEN, Stack, running_stack, stack_settings
from tests.e2e.test_officer_alerts import link, t
from tests.e2e.test_reporter_steps import _double_tap

LANGS = ["zh-hans", "en"]
# Nothing here that a phrase rule reads as danger: only the reporter's answer can make it urgent.
CALM = "报销单据在财务压了两个月，一直没人处理。My expense claims have been stuck for two months."
# A week: a case officers can list right after filing was let through the blur, not lucky.
WEEK_MINUTES = 7 * 24 * 60


@pytest.fixture
async def blurred(database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """The whole product with a week-long timing blur (P8)."""
    async with FakeBotAPI(TOKEN) as fake:
        settings = stack_settings(fake, database_url, tmp_path, blur_max_minutes=WEEK_MINUTES)
        async with running_stack(fake, settings) as stack:
            yield stack
        assert fake.rejections == [], f"Telegram would have refused: {fake.rejections}"


def _notices(stack: Stack, r: ScriptedReporter) -> list[str]:
    """The emergency notices the bot has shown in this chat."""
    emergency = r.t("danger.emergency").split("{")[0]
    return [e.text for e in stack.fake.bot_messages(r.chat_id) if emergency in e.text]


def _emergency(r: ScriptedReporter) -> str:
    return r.t("danger.emergency").format(duration=r.t("duration.hours").format(count=2))


@pytest.mark.parametrize("language", LANGS)
async def test_someone_in_danger_makes_the_report_urgent_and_seen_at_once(
    blurred: Stack, language: str
) -> None:
    # Given a triage officer whose chat is linked for alerts, and a week-long blur
    await link(blurred, "triage1", 990301)
    r = blurred.reporter(779001, language_code=language)
    # When the reporter says someone is in danger now, about a report with no danger words
    await r.say("/start", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("group.rights", has_button(r.t("category.wages")))
    asked = await r.tap("category.wages", has_button(r.t("danger.yes")))
    assert asked.text == r.t("danger.question")
    assert has_button(r.t("button.back"))(asked)
    assert has_button(r.t("button.cancel"))(asked)
    await r.tap("danger.yes", has_button(r.t("handler.none")))
    # Then they are told plainly that this is no emergency service, and whom to call
    [notice] = _notices(blurred, r)
    assert notice == r.t("danger.urgent") + "\n\n" + _emergency(r)
    if language == "en":
        assert "local emergency number" in notice
    else:
        assert all(number in notice for number in ("110", "119", "120"))
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await r.say(CALM, has_button(r.t("button.done")))
    review = await r.tap("button.done", has_button(r.t("button.confirm")))
    assert r.t("danger.review_yes") in review.text
    filed = await r.finish_report_from_review(notify=False)
    # The notice is not report content: it stays on screen after filing.
    assert _notices(blurred, r) == [notice]
    assert not any(e.deleted for e in blurred.fake.bot_messages(r.chat_id) if e.text == notice)
    # And officers see the case at once, urgent, with the reporter named as the reason
    triage = await blurred.officer("triage1")
    [row] = await triage.cases()
    assert (row["reference"], row["severity"]) == (filed.reference, "urgent")
    intake = (await triage.case(filed.reference))["intake"]
    assert intake["urgent"] is False  # the rules found nothing
    assert intake["urgent_source"] == "reporter"
    assert intake["reporter_danger"] == "yes"
    assert "reporter:danger=yes" in intake["rules"]
    # The linked officer is alerted without waiting for the blur, and without content
    alert = await blurred.fake.wait_for_bot_message(990301, says(filed.reference), timeout=15)
    assert t("alert_kind.urgent") in alert.text
    assert CALM[:6] not in alert.text
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_no_danger_and_no_danger_words_is_normal_and_blurred(
    blurred: Stack, language: str
) -> None:
    r = blurred.reporter(779002, language_code=language)
    filed = await r.file_report("rights", "wages", [CALM], danger="no", notify=False)
    # No notice for "no": nothing alarming is said.
    assert _notices(blurred, r) == []
    # Officers cannot see it yet (the blur), and the case is normal
    triage = await blurred.officer("triage1")
    assert await triage.cases() == []
    await triage.close()
    async with blurred.app.storage.uow() as uow:
        case = await uow.cases.by_reference(filed.reference)
        assert case is not None
        meta = await uow.intake_meta.get(case.id)
    assert case.severity == "normal"
    assert meta is not None
    assert meta.urgent is False
    assert "reporter:danger=no" in meta.rules


@pytest.mark.parametrize("language", LANGS)
async def test_back_and_cancel_on_the_danger_step(stack: Stack, language: str) -> None:
    r = stack.reporter(779003, language_code=language)
    await r.say("/start", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("group.rights", has_button(r.t("category.safety")))
    await r.tap("category.safety", has_button(r.t("danger.yes")))
    # Back from the question is the kinds of the group; the question comes again after.
    await r.tap("button.back", has_button(r.t("category.safety")))
    await r.tap("category.safety", has_button(r.t("danger.yes")))
    # "Not sure" gets the emergency notice too, without the promise of urgency.
    await r.tap("danger.not_sure", has_button(r.t("handler.none")))
    assert _notices(stack, r) == [_emergency(r)]
    # Back from the next step is the question again; a "yes" replaces the answer...
    await r.tap("button.back", has_button(r.t("danger.yes")))
    await r.tap("danger.yes", has_button(r.t("handler.none")))
    # ...and so does a "no" after going back once more.
    await r.tap("button.back", has_button(r.t("danger.yes")))
    await r.tap("danger.no", has_button(r.t("handler.none")))
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await r.say(CALM, has_button(r.t("button.done")))
    review = await r.tap("button.done", has_button(r.t("button.confirm")))
    assert r.t("danger.review_no") in review.text
    filed = await r.finish_report_from_review(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["case"]["severity"] == "normal"
    assert detail["intake"]["reporter_danger"] == "no"
    assert detail["intake"]["urgent_source"] is None
    # Cancel on the question, and /cancel typed there: nothing is filed.
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("category.not_sure", has_button(r.t("danger.yes")))
    cancelled = await r.tap("button.cancel", says(r.t("cancel.done")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("category.not_sure", has_button(r.t("danger.yes")))
    await r.say("/cancel", says(r.t("cancel.done")))
    # A danger button pressed with no report in progress says the draft is gone.
    mark = r.mark()
    await r.user.press_data(PickDanger(answer=Danger.YES).pack(), cancelled.message_id)
    await r.expect(says(r.t("draft.expired")[:12]), mark)
    assert [c["reference"] for c in await triage.cases()] == [filed.reference]
    await triage.close()


async def test_double_taps_and_duplicate_deliveries_answer_once(stack: Stack) -> None:
    r = stack.reporter(779004, language_code="en")
    await r.say("/start", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("category.not_sure", has_button(r.t("danger.yes")))
    queries = await _double_tap(stack, r, r.t("danger.yes"))
    assert all(r.user.answered(q) for q in queries)
    await r.expect(has_button(r.t("handler.none")), 0)
    await r.tap("button.back", has_button(r.t("danger.yes")))
    mark = r.mark()
    await r.user.press(r.t("danger.yes"))
    r.user.resend_last_update()
    await r.expect(has_button(r.t("handler.none")), mark)
    await asyncio.sleep(0.3)  # anything a second processing would still send
    assert len(_notices(stack, r)) == 2  # one per "yes" pressed, none for the repeats
    asking = [e for e in stack.fake.bot_messages(r.chat_id) if has_button(r.t("handler.none"))(e)]
    assert len(asking) == 1
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await r.say("the ladder rungs are cracked", has_button(r.t("button.done")))
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    assert (await triage.case(filed.reference))["intake"]["urgent_source"] == "reporter"
    await triage.close()
