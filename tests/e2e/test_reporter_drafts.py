"""A draft's life through the running bot: what is shown of it goes when it is committed or
abandoned, starting over asks first, a filed report is never called unsaved, and the daily
limit is told before a receipt is shown."""

from __future__ import annotations

import pytest

from bot.devtools.fake_bot_api import ChatEntry
from bot.devtools.scripted import RECEIPT_RE, REFERENCE_RE, ScriptedReporter, has_button, says
from tests.e2e.conftest import Stack

LANGS = ["zh-hans", "en"]
# Long, with markup characters and emoji, the way a real draft may look.
DRAFT = ("车间主任 <b>扣</b> & _克扣_ *加班费* `三个月` 😀 " * 20)[:650]


async def _cases(stack: Stack) -> list[dict[str, object]]:
    triage = await stack.officer("triage1")
    rows = await triage.cases()
    await triage.close()
    return rows


async def _to_review(r: ScriptedReporter, text: str) -> None:
    await r.begin_report("rights", "wages")
    await r.say(text, has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))


def _showing_the_report(stack: Stack, r: ScriptedReporter) -> list[int]:
    """Ids of the bot's messages that echoed the report, summed it up or showed a receipt."""
    header, confirm = r.t("report.review_header"), has_button(r.t("button.confirm"))
    return [
        e.message_id
        for e in stack.fake.bot_messages(r.chat_id)
        if header in e.text or RECEIPT_RE.search(e.text) or confirm(e)
    ]


def _still_shown(stack: Stack, r: ScriptedReporter, ids: list[int]) -> list[ChatEntry]:
    return [e for e in stack.fake.chat(r.chat_id) if e.message_id in ids and not e.deleted]


def _first_menu(stack: Stack, r: ScriptedReporter) -> int:
    """The first menu the bot showed in the chat: an old message, as after scrolling up."""
    menu = has_button(r.t("menu.new_report"))
    return next(e.message_id for e in stack.fake.bot_messages(r.chat_id) if menu(e))


@pytest.mark.parametrize("language", LANGS)
async def test_receipt_and_echo_go_at_the_commit_and_cancel_then_says_filed(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(776001, language_code=language)
    await _to_review(r, DRAFT)
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    shown = _showing_the_report(stack, r)
    assert len(shown) == 3  # the echo, the summary with its buttons, the receipt
    filed = await r.tap("button.saved", has_button(r.t("notify.full")))
    # Gone as soon as the case exists, before (and whatever) the notification choice.
    assert _still_shown(stack, r, shown) == []
    reference = REFERENCE_RE.search(filed.text)
    assert reference is not None
    # /cancel instead of a choice: the report is filed, and is said to be.
    answer = await r.say("/cancel", says(r.t("report.filed_note")[:8]))
    assert reference.group(0) in answer.text
    assert r.t("cancel.done") not in "\n".join(e.text for e in stack.fake.bot_messages(r.chat_id))
    [row] = await _cases(stack)
    assert row["reference"] == reference.group(0)
    # The choice is closed: notifications stay off, the old buttons change nothing.
    mark = r.mark()
    await r.user.press(r.t("notify.full"))
    stale = await r.expect(lambda _e: True, mark)
    assert stale.text == r.t("fallback.stale_button")


@pytest.mark.parametrize("language", LANGS)
async def test_start_or_new_report_after_the_commit_say_filed(stack: Stack, language: str) -> None:
    r = stack.reporter(776002, language_code=language)
    await _to_review(r, "the first one")
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    await r.tap("button.saved", has_button(r.t("notify.full")))
    mark = r.mark()
    await r.user.send_text("/start")
    await r.expect(says(r.t("report.filed_note")[:8]), mark)
    await r.expect(has_button(r.t("menu.new_report")), mark)
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("category.not_sure", has_button(r.t("danger.yes")))
    await r.tap("danger.no", has_button(r.t("handler.none")))
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    await r.say("the second one", has_button(r.t("button.done")))
    await r.tap("button.done", has_button(r.t("button.confirm")))
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    await r.tap("button.saved", has_button(r.t("notify.full")))
    # "New report" on the first menu, far up the chat, while the notification choice is open.
    mark = r.mark()
    await r.user.press(r.t("menu.new_report"), message_id=_first_menu(stack, r))
    await r.expect(says(r.t("report.filed_note")[:8]), mark)
    await r.expect(has_button(r.t("group.rights")), mark)
    assert len(await _cases(stack)) == 2


@pytest.mark.parametrize("language", LANGS)
async def test_abandoning_a_draft_removes_what_it_showed(stack: Stack, language: str) -> None:
    r = stack.reporter(776003, language_code=language)
    # /cancel on the review screen.
    await _to_review(r, "written, then cancelled")
    shown = _showing_the_report(stack, r)
    assert len(shown) == 2
    await r.say("/cancel", says(r.t("cancel.done")))
    assert _still_shown(stack, r, shown) == []
    # Cancel on the receipt: the receipt goes, and the answer comes as a new message.
    await _to_review(r, "written again, then cancelled at the receipt")
    await r.tap("button.confirm", has_button(r.t("button.saved")))
    shown = _showing_the_report(stack, r)
    await r.tap("button.cancel", says(r.t("cancel.done")))
    assert _still_shown(stack, r, shown) == []
    # /start on the review, after being asked, and discarding.
    await _to_review(r, "written a third time")
    shown = _showing_the_report(stack, r)
    await r.say("/start", has_button(r.t("draft.discard")))
    await r.tap("draft.discard", has_button(r.t("menu.new_report")))
    assert _still_shown(stack, r, shown) == []
    assert await _cases(stack) == []


@pytest.mark.parametrize("language", LANGS)
async def test_starting_over_mid_draft_asks_first_and_keeping_loses_nothing(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(776004, language_code=language)
    await r.begin_report("rights", "wages")
    await r.say(DRAFT, has_button(r.t("button.done")))
    old_menu = _first_menu(stack, r)

    async def keep(mark: int, expect_label: str) -> None:
        asked = await r.expect(has_button(r.t("draft.keep")), mark)
        assert str(len(DRAFT)) in asked.text
        kept = await r.tap("draft.keep", has_button(r.t(expect_label)))
        assert r.t("draft.discard") not in str(kept.buttons)

    # "New report" and "Check status" on an old menu, /status and /start typed: each asks.
    for label in ("menu.new_report", "menu.check_status"):
        mark = r.mark()
        await r.user.press(r.t(label), message_id=old_menu)
        await keep(mark, "button.done")
    for command in ("/status", "/start"):
        mark = r.mark()
        await r.user.send_text(command)
        await keep(mark, "button.done")
    # Back all the way to the first step, then Back once more: asked too.
    await r.tap("button.back", has_button(r.t("department.prefer_not")))
    await r.tap("button.back", has_button(r.t("handler.none")))
    await r.tap("button.back", has_button(r.t("danger.yes")))
    await r.tap("button.back", has_button(r.t("category.wages")))
    await r.tap("button.back", has_button(r.t("group.rights")))
    mark = r.mark()
    await r.user.press(r.t("button.back"))
    await keep(mark, "group.rights")
    # The draft is whole: file it from the first step.
    await r.tap("group.integrity", has_button(r.t("category.bribery")))
    await r.tap("category.bribery", has_button(r.t("danger.yes")))
    await r.tap("danger.no", has_button(r.t("handler.none")))
    await r.tap("handler.none", has_button(r.t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(r.t("button.done")))
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == DRAFT
    assert detail["case"]["category"] == "bribery"
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_discarding_goes_on_with_what_was_asked(stack: Stack, language: str) -> None:
    r = stack.reporter(776005, language_code=language)
    await r.begin_report(None, "other")
    await r.say("to be discarded", has_button(r.t("button.done")))
    await r.say("/status", has_button(r.t("draft.discard")))
    await r.tap("draft.discard", says(r.t("status.ask_receipt")[:10]))
    assert any(e.text == r.t("draft.discarded") for e in stack.fake.bot_messages(r.chat_id))
    # Nothing is left to lose: "New report" now starts at once.
    await r.tap("button.cancel", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    assert await _cases(stack) == []


@pytest.mark.parametrize("language", LANGS)
async def test_the_daily_limit_is_told_before_a_receipt_and_the_draft_is_kept(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(776006, language_code=language)
    for number in range(5):
        await r.file_report(None, "other", [f"report number {number}"], notify=False)
    await _to_review(r, "one too many")
    mark = r.mark()
    refused = await r.tap("button.confirm", says(r.t("rate.reports_at_confirm")[:12]))
    # No receipt was shown for a case that could not exist today.
    assert not any(
        RECEIPT_RE.search(e.text) for e in stack.fake.bot_messages(r.chat_id) if e.sequence > mark
    )
    assert r.t("duration.hours").format(count=2) in refused.text
    # Still on the review, the draft whole.
    await r.tap("button.back", has_button(r.t("button.done")))
    echo = await r.tap("button.done", says("one too many"))
    assert r.t("report.review_header") in echo.text
    assert len(await _cases(stack)) == 5
    # Another chat is not affected by this one's count.
    other = stack.reporter(776007, language_code=language)
    await other.file_report(None, "other", ["a different chat"], notify=False)
