"""What people actually send: duplicates, double taps, groups, edits, wrong receipts."""

from __future__ import annotations

import asyncio

from bot.devtools.scripted import RECEIPT_RE, ScriptedReporter, has_button, says
from tests.e2e.conftest import Stack


async def _count_cases(stack: Stack) -> int:
    triage = await stack.officer("triage1")
    rows = await triage.cases()
    await triage.close()
    return len(rows)


async def _to_receipt(stack: Stack, user_id: int) -> tuple[ScriptedReporter, str]:
    reporter = stack.reporter(user_id, language_code="en")
    await reporter.begin_report(None, "other")
    await reporter.say("the canteen gas smell", has_button(reporter.t("button.done")))
    await reporter.tap("button.done", has_button(reporter.t("button.confirm")))
    message = await reporter.tap("button.confirm", has_button(reporter.t("button.saved")))
    return reporter, message.text


async def test_double_tap_on_saved_commits_one_case(stack: Stack) -> None:
    reporter, _ = await _to_receipt(stack, 780001)
    mark = reporter.mark()
    label = reporter.t("button.saved")
    await reporter.user.press(label)
    await reporter.user.press(label)
    await reporter.user.press(label)
    await reporter.expect(has_button(reporter.t("notify.full")), mark)
    await reporter.tap("notify.off", says("Thank you"))
    assert await _count_cases(stack) == 1


async def test_duplicate_delivery_of_the_saved_press_commits_one_case(stack: Stack) -> None:
    reporter, _ = await _to_receipt(stack, 780002)
    mark = reporter.mark()
    await reporter.user.press(reporter.t("button.saved"))
    reporter.user.resend_last_update()
    await reporter.expect(has_button(reporter.t("notify.full")), mark)
    await reporter.tap("notify.off", says("Thank you"))
    assert await _count_cases(stack) == 1


async def test_cancel_at_the_receipt_commits_nothing(stack: Stack) -> None:
    reporter, receipt_text = await _to_receipt(stack, 780003)
    await reporter.say("/cancel", says(reporter.t("cancel.done")))
    assert await _count_cases(stack) == 0
    assert receipt_text


async def test_group_chat_gets_one_line_and_nothing_is_stored(stack: Stack) -> None:
    group = stack.fake.group(-100500, "Workshop 3")
    member = stack.fake.user(780004, "Colleague", language_code="en")
    await group.send_text(member, "/start")
    await group.send_text(member, "the manager takes bribes")
    reply = await stack.fake.wait_for_bot_message(-100500)
    assert "privately" in reply.text
    assert len(stack.fake.bot_messages(-100500)) == 1
    assert await _count_cases(stack) == 0


async def test_editing_a_sent_message_is_explained(stack: Stack) -> None:
    reporter = stack.reporter(780005, language_code="en")
    await reporter.say("/start", has_button(reporter.t("menu.new_report")))
    mark = reporter.mark()
    message_id = await reporter.user.send_text("hello")
    await reporter.expect(says(reporter.t("draft.kept_note")[:15]), mark)
    mark = reporter.mark()
    await reporter.user.edit_text(message_id, "hello again")
    explained = await reporter.expect(says(reporter.t("edit.not_applied")[:20]), mark)
    assert has_button(reporter.t("menu.check_status"))(explained)


async def test_wrong_and_malformed_receipts(stack: Stack) -> None:
    reporter = stack.reporter(780006, language_code="en")
    await reporter.say("/status", says(reporter.t("status.ask_receipt")[:10]))
    await reporter.say("12345", says(reporter.t("status.bad_format")[:20]))
    await reporter.say("1234 5678 9012 3456", says(reporter.t("status.not_found")[:20]))
    # The reporter's messages carrying receipts were deleted from the chat.
    typed = [e for e in stack.fake.chat(reporter.chat_id) if not e.from_bot and "1234" in e.text]
    assert typed
    assert all(e.deleted for e in typed)


async def test_stale_button_after_cancel_changes_nothing(stack: Stack) -> None:
    reporter = stack.reporter(780007, language_code="en")
    await reporter.say("/start", has_button(reporter.t("menu.new_report")))
    await reporter.tap("menu.new_report", has_button(reporter.t("category.not_sure")))
    await reporter.say("/cancel", says(reporter.t("cancel.done")))
    query_id = await reporter.user.press(reporter.t("category.not_sure"))
    assert await _wait_answered(reporter, query_id)


async def _wait_answered(reporter: ScriptedReporter, query_id: str) -> bool:
    for _ in range(100):
        if reporter.user.answered(query_id):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_reporter_who_blocked_the_bot_is_marked_unreachable(stack: Stack) -> None:
    reporter = stack.reporter(780008, language_code="en")
    filed = await reporter.file_report("rights", "safety", ["the scaffold is loose"])
    reporter.user.blocked = True
    triage = await stack.officer("triage1")
    await triage.triage(filed.reference, routing="union")
    union = await stack.officer("union1")
    for _ in range(100):
        rows = await union.cases()
        if rows and rows[0]["reporter_unreachable"]:
            break
        await asyncio.sleep(0.05)
    assert rows[0]["reporter_unreachable"] is True
    await triage.close()
    await union.close()


async def test_a_failed_commit_keeps_the_draft_and_a_retry_files_it(stack: Stack) -> None:
    """Given the database refuses the first commit, the reporter is told, nothing is lost, and
    pressing "I have saved it" again files exactly one case under the same receipt."""
    assert stack.app.dispatcher is not None
    intake = stack.app.dispatcher["intake"]
    real_submit = intake.submit
    calls = 0

    async def flaky_submit(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real_submit(*args, **kwargs)

    intake.submit = flaky_submit
    reporter, receipt_text = await _to_receipt(stack, 780009)
    mark = reporter.mark()
    await reporter.user.press(reporter.t("button.saved"))
    for _ in range(100):
        if calls:
            break
        await asyncio.sleep(0.05)
    await reporter.user.press(reporter.t("button.saved"))
    await reporter.expect(has_button(reporter.t("notify.full")), mark)
    await reporter.tap("notify.full", says("Thank you"))
    assert calls == 2
    assert await _count_cases(stack) == 1
    receipt = RECEIPT_RE.search(receipt_text)
    assert receipt is not None
    assert "Case" in await reporter.check_status(receipt.group(0))
