"""Follow-ups and robustness: replies, duplicates, bursts, refusals, lost drafts."""

from __future__ import annotations

import asyncio

import pytest

from bot.devtools.scripted import has_button, says
from tests.e2e.conftest import Stack

LANGS = ["zh-hans", "en"]
NASTY = "<b> a <b & c _*[]()~ `tick` 😀"


@pytest.mark.parametrize("language", LANGS)
async def test_reporter_replies_and_changes_notifications_from_status(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(772001, language_code=language)
    filed = await r.file_report("rights", "wages", ["工资拖欠两个月"], notify=False)
    triage = await stack.officer("triage1")
    await triage.triage(filed.reference, routing="union", note="请补充 <单位> & 时间")
    await r.say("/status", says(r.t("status.ask_receipt")[:10]))
    history = await r.say(filed.receipt, has_button(r.t("status.reply_button")))
    assert history
    await r.tap("status.reply_button", says(r.t("status.ask_reply")[:8]))
    await r.say(NASTY, says(r.t("status.reply_saved")))
    await r.tap("button.done", has_button(r.t("status.notify_button")))
    await r.tap("status.notify_button", has_button(r.t("notify.status_only")))
    await r.tap("notify.status_only", says(r.t("status.notify_changed")))
    union = await stack.officer("union1")
    detail = await union.case(filed.reference)
    replies = [i for i in detail["items"] if i["kind"] == "reply"]
    assert [i["text"] for i in replies] == [NASTY]
    assert replies[0]["officer_id"] is None
    # The reporter's own history lists the officer's note, then that they replied — not the
    # reply's text, which is sealed for the officers only (P2).
    text = await r.check_status(filed.receipt)
    assert text.index("请补充 <单位> & 时间") < text.index(r.t("status.your_reply"))
    assert NASTY not in text
    for client in (triage, union):
        await client.close()


async def test_duplicate_update_makes_one_case(stack: Stack) -> None:
    r = stack.reporter(772002, language_code="en")
    await r.begin_report(None, "other")
    await r.say("the same words", has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    mark = r.mark()
    await r.user.press(r.t("button.saved"))
    r.user.resend_last_update()
    await r.expect(has_button(r.t("notify.full")), mark)
    await asyncio.sleep(0.5)
    triage = await stack.officer("triage1")
    assert len(await triage.cases()) == 1
    await triage.close()


async def test_three_quick_presses_at_confirm_make_one_case(stack: Stack) -> None:
    r = stack.reporter(772003, language_code="zh-hans")
    await r.begin_report("rights", "wages")
    await r.say("工资", has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    mark = r.mark()
    for _ in range(3):
        await r.user.press(r.t("button.saved"))
    await r.expect(has_button(r.t("notify.full")), mark)
    await asyncio.sleep(0.5)
    triage = await stack.officer("triage1")
    assert len(await triage.cases()) == 1
    await triage.close()


CONTACT = {"contact": {"phone_number": "+8613800000000", "first_name": "Xiaoming"}}
LOCATION = {"location": {"latitude": 31.23, "longitude": 121.47}}
VOICE = {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}}
VIDEO_NOTE = {
    "video_note": {"file_id": "n1", "file_unique_id": "un1", "length": 240, "duration": 3}
}


@pytest.mark.parametrize("language", LANGS)
async def test_identifying_input_is_refused_and_the_step_is_kept(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(772004, language_code=language)
    await r.begin_report(None, "other")
    await r.say("before", has_button(r.t("button.done")))
    for fields, key in (
        (CONTACT, "refuse.contact"),
        (LOCATION, "refuse.location"),
        (VOICE, "refuse.voice"),
        (VIDEO_NOTE, "refuse.video_note"),
    ):
        mark = r.mark()
        await r.user.send_message(**fields)
        await r.expect(says(r.t(key)[:12]), mark)
    await r.say("after", has_button(r.t("button.done")))
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == "before\n\nafter"
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_forwarded_text_is_kept_without_its_origin(stack: Stack, language: str) -> None:
    r = stack.reporter(772005, language_code=language)
    await r.begin_report(None, "other")
    mark = r.mark()
    await r.user.send_message(
        text="forwarded words",
        forward_origin={
            "type": "user",
            "date": 1,
            "sender_user": {"id": 99, "is_bot": False, "first_name": "Boss"},
        },
    )
    await r.expect(says(r.t("forward.warning")[:10]), mark)
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == "forwarded words"
    assert "Boss" not in str(detail)
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_a_lost_draft_is_explained_not_dropped(stack: Stack, language: str) -> None:
    r = stack.reporter(772006, language_code=language)
    await r.begin_report(None, "other")
    await r.say("half a report", has_button(r.t("button.done")))
    # The memory storage is lost on restart; closing it forgets every draft the same way.
    assert stack.app.dispatcher is not None
    await stack.app.dispatcher.storage.close()
    # Typed text is no evidence of a draft (it may be a first message): the welcome, with a
    # word on how long drafts are kept. A press on a report step's button is evidence.
    welcome = await r.say("more text", says(r.t("draft.kept_note")[:10]))
    assert has_button(r.t("menu.new_report"))(welcome)
    await r.tap("button.done", says(r.t("draft.expired")[:10]))
