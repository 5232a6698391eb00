"""After filing, in both languages: the reason a report was not accepted reaches the reporter
(notification and /status), replies reach the officers whole, and the reporter's own history
says that and when they replied — never the text (P2)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.devtools.scripted import has_button, says
from cases.followup import MAX_REPLY_CHARS
from cases.retention import RetentionPolicy, RetentionService
from tests.e2e.conftest import Stack

LANGS = ["zh-hans", "en"]
NASTY = "<b> a <b & c _*[]()~ `tick` 😀"
NOTE = "请写明时间、地点 <具体> & 涉及的人"


@pytest.mark.parametrize("language", LANGS)
async def test_not_accepted_reason_reaches_the_reporter_in_their_language(
    stack: Stack, language: str
) -> None:
    full = stack.reporter(775001, language_code=language)
    filed = await full.file_report(None, "other", ["食堂的事"], notify="full")
    quiet = stack.reporter(775002, language_code=language)
    quiet_filed = await quiet.file_report(None, "other", ["另一件事"], notify="status")
    reason = full.t("not_accepted_reason.insufficient_detail")
    assert reason != "not_accepted_reason.insufficient_detail"

    triage = await stack.officer("triage1")
    marks = {full.chat_id: full.mark(), quiet.chat_id: quiet.mark()}
    for reference in (filed.reference, quiet_filed.reference):
        await triage.triage(reference, not_accepted_reason="insufficient_detail", note=NOTE)

    # The notification names the status, the fixed reason and (full level) the officer's words.
    told = await full.expect(says(full.t("reporter_status.not_accepted")), marks[full.chat_id])
    status_line = full.t("notify.update").format(
        reference=filed.reference, status=full.t("reporter_status.not_accepted")
    )
    reason_line = full.t("notify.reason").format(reason=reason)
    assert told.text.startswith(status_line + "\n" + reason_line + "\n\n")
    assert NOTE in told.text
    # Status only: the reason is a fixed label like the status itself; the free text is not.
    quiet_told = await quiet.expect(says(reason_line), marks[quiet.chat_id])
    assert NOTE not in quiet_told.text
    assert quiet_filed.reference in quiet_told.text

    # /status shows the same: status, reason, note.
    history = await full.check_status(filed.receipt)
    not_accepted = history.index("— " + full.t("reporter_status.not_accepted"))
    assert not_accepted < history.index(full.t("status.reason").format(reason=reason))
    assert full.t("status.note").format(note=NOTE) in history
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_replies_reach_the_officers_whole_and_history_shows_only_when(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(775101, language_code=language)
    filed = await r.file_report(None, "other", ["工资拖欠"], notify=False)
    triage = await stack.officer("triage1")
    await triage.triage(filed.reference, routing="union", note="请补充时间")
    await r.say("/status", says(r.t("status.ask_receipt")[:10]))
    await r.say(filed.receipt, has_button(r.t("status.reply_button")))
    await r.tap("status.reply_button", says(r.t("status.ask_reply")[:8]))

    # The longest message Telegram delivers is one reply (it used to fail past 4,000).
    longest = ("补充说明 <b>&c " * 1000)[:MAX_REPLY_CHARS]
    assert len(longest) == 4096
    await r.say(longest, says(r.t("status.reply_saved")))
    # Telegram delivers a longer text as several messages: each is kept, in order.
    await r.say(NASTY, says(r.t("status.reply_saved")))
    # A message over the limit (Telegram itself never sends one) is refused with the limit
    # named, nothing saved, and the reply step stays open.
    too_long = "y" * (MAX_REPLY_CHARS + 1)
    refused = await r.say(too_long, says(r.t("status.reply_too_long")[:8]))
    assert refused.text == r.t("status.reply_too_long").format(limit=MAX_REPLY_CHARS)
    assert "4096" in refused.text
    await r.say("REPLY-THREE", says(r.t("status.reply_saved")))
    finished = await r.tap("button.done", has_button(r.t("status.notify_button")))
    assert finished.text == r.t("status.reply_finished")

    union = await stack.officer("union1")
    detail = await union.case(filed.reference)
    replies = [i for i in detail["items"] if i["kind"] == "reply"]
    assert [i["text"] for i in replies] == [longest, NASTY, "REPLY-THREE"]
    assert all(i["officer_id"] is None for i in replies)

    history = await r.check_status(filed.receipt)
    assert history.count(r.t("status.your_reply")) == 3
    for text in (longest[:12], NASTY, "REPLY-THREE"):
        assert text not in history
    assert history.index(r.t("status.note").format(note="请补充时间")) < history.index(
        r.t("status.your_reply")
    )
    for client in (triage, union):
        await client.close()


@pytest.mark.parametrize("language", LANGS)
async def test_a_reply_to_a_purged_case_is_not_reported_as_delivered(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(775201, language_code=language)
    filed = await r.file_report(None, "other", ["不相关的事"], notify=False)
    triage = await stack.officer("triage1")
    # Not accepted: closed as of the decision, purged 60 days after it.
    await triage.triage(filed.reference, not_accepted_reason="out_of_scope")
    await r.say("/status", says(r.t("status.ask_receipt")[:10]))
    await r.say(filed.receipt, has_button(r.t("status.reply_button")))
    await r.tap("status.reply_button", says(r.t("status.ask_reply")[:8]))

    # Meanwhile the retention job purges the case (61 days on, past the 60-day period).
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=61)
    purge = RetentionService(stack.app.storage.uow, RetentionPolicy(), clock=lambda: later)
    plan = await purge.run(dry_run=False)
    assert [p.reference for p in plan.cases] == [filed.reference]

    mark = r.mark()
    gone = await r.say("anyone there?", has_button(r.t("menu.new_report")))
    assert gone.text == r.t("status.case_gone")
    sent = [e.text for e in stack.fake.bot_messages(r.chat_id) if e.sequence > mark]
    assert r.t("status.reply_saved") not in sent
    await triage.close()
