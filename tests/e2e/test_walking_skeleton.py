"""The main job end to end: a concern typed in Telegram reaches an officer, encrypted, and the
reporter hears back — through the real bot over HTTP, the real admin API, on each database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.devtools.scripted import has_button, says
from tests.cases.test_cleaning import NAME, jpeg_with_gps, pdf_with_author
from tests.e2e.conftest import Stack

CONCERN = (
    "我们小区物业的保安和保洁，上个月的工资到现在还没发，问项目经理就说“甲方物业费没收上来”。"
    "每人四千二左右，一共二十来个人。"
)
NASTY = "<b> a <b & c _*[]()~ `tick` 😀 &amp; </i>"
LANGS = ["zh-hans", "en"]


async def dump_database(engine: AsyncEngine) -> str:
    """Every row of every table, as text (bytes as hex and raw), for the identity scan."""
    metadata = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        lines = []
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        lines.append(raw.hex())
                        lines.append(raw.decode("latin-1"))
                    else:
                        lines.append(str(value))
    return "\n".join(lines)


async def test_concern_reaches_union_and_reporter_hears_back(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    reporter = stack.reporter()
    filed = await reporter.file_report("rights", "wages", [CONCERN, NASTY])

    # The triage officer sees the case, decrypted exactly, and routes it to the union.
    triage = await stack.officer("triage1")
    [row] = await triage.cases()
    assert row["reference"] == filed.reference
    assert row["status"] == "received"
    detail = await triage.case(filed.reference)
    assert detail["report"] == CONCERN + "\n\n" + NASTY
    mark = reporter.mark()
    await triage.triage(filed.reference, routing="union", note="已转工会 <处理> & 跟进")
    accepted = await reporter.expect(lambda e: "已受理" in e.text, mark)
    assert "已转工会 <处理> & 跟进" in accepted.text

    # The union officer takes it on; the reporter hears about it in the chat.
    union = await stack.officer("union1")
    assert [c["reference"] for c in await union.cases()] == [filed.reference]
    mark = reporter.mark()
    await union.set_status(filed.reference, "in_progress", "正在核实工资发放情况")
    progress = await reporter.expect(lambda e: "办理中" in e.text, mark)
    assert "正在核实工资发放情况" in progress.text

    # The receipt shows the same history.
    history = await reporter.check_status(filed.receipt)
    expected_lines = (
        "已接收",
        "已受理",
        "办理中",
        "已转工会 <处理> & 跟进",
        "正在核实工资发放情况",
    )
    for expected in expected_lines:
        assert expected in history

    # The bot deleted its messages that showed the receipt or echoed the report.
    shown = [e for e in stack.fake.bot_messages(reporter.chat_id) if filed.receipt in e.text]
    assert shown
    assert all(e.deleted for e in shown)
    echoed = [e for e in stack.fake.bot_messages(reporter.chat_id) if CONCERN[:20] in e.text]
    assert echoed
    assert all(e.deleted for e in echoed)

    # P1: nothing at rest or in the logs names the reporter.
    dump = await dump_database(stack.app.storage.engine)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert filed.receipt.replace(" ", "") not in dump
    assert CONCERN[:10] not in dump
    for needle in (str(reporter.user.user_id), "Xiaoming", "Wangsurname", "wxm_reporter"):
        assert needle not in dump, needle
        assert needle not in logs, needle
    # message ids of the reporter's chat are not stored either
    assert dump.count(filed.reference) >= 1
    await triage.close()
    await union.close()


@pytest.mark.parametrize("language", LANGS)
async def test_long_report_with_markup_is_echoed_in_parts_and_stored_exactly(
    stack: Stack, language: str
) -> None:
    reporter = stack.reporter(770002, language_code=language)
    long_text = (NASTY + " 举报 ") * 160  # ≈ 5,000 characters of characters Telegram dislikes
    long_text = long_text[:5000]
    await reporter.begin_report(None, "other")
    # Telegram itself splits long input; the reporter sends it as two messages.
    await reporter.say(long_text[:4000], has_button(reporter.t("button.done")))
    await reporter.say(long_text[4000:], has_button(reporter.t("button.done")))
    mark = reporter.mark()
    await reporter.user.press(reporter.t("button.done"))
    await reporter.expect(has_button(reporter.t("button.confirm")), mark)
    parts = [
        e
        for e in stack.fake.bot_messages(reporter.chat_id)
        if e.sequence > mark and reporter.t("report.review_header") in e.text
    ]
    assert len(parts) >= 2
    assert all(len(e.text) <= 4096 for e in parts)
    # The echo shows the text exactly as written: every part, after its header, in order.
    written = long_text[:4000] + "\n\n" + long_text[4000:]
    assert "".join(e.text.split("\n\n", 1)[1] for e in parts) == written
    receipt_msg = await reporter.tap("button.confirm", has_button(reporter.t("button.saved")))
    assert receipt_msg.text
    await reporter.tap("button.saved", has_button(reporter.t("notify.off")))
    await reporter.tap("notify.off", says(reporter.t("report.clear_chat")[:20]))
    triage = await stack.officer("triage1")
    [row] = await triage.cases()
    detail = await triage.case(row["reference"])
    assert detail["report"] == written
    await triage.close()


async def test_sticker_and_unexpected_input_lose_nothing(stack: Stack) -> None:
    reporter = stack.reporter(770003, language_code="en")
    await reporter.begin_report(None, "other")
    await reporter.say("first part", has_button(reporter.t("button.done")))
    mark = reporter.mark()
    await reporter.user.send_message(
        sticker={
            "file_id": "CAAC",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    )
    refusal = await reporter.expect(has_button(reporter.t("button.done")), mark)
    assert "not added" in refusal.text
    await reporter.say("second part", has_button(reporter.t("button.done")))
    await reporter.tap("button.done", has_button(reporter.t("button.confirm")))
    review = [e.text for e in stack.fake.bot_messages(reporter.chat_id)]
    assert any("first part\n\nsecond part" in text for text in review)


def files_under(root: Path) -> dict[Path, bytes]:
    """Every file the product wrote under its data directory (the SQLite database included)."""
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("language", LANGS)
async def test_identity_scan_with_attachments_and_a_reply(
    stack: Stack, caplog: pytest.LogCaptureFixture, language: str
) -> None:
    """P1 as an attack: after a report with a photo, a PDF and a reply, search everything the
    product keeps — every table, every log line, every file under the data dir — for the
    reporter's identifiers, the files' hidden details and the files' plaintext bytes."""
    reporter = stack.reporter(
        770009,
        first_name="Meimei",
        last_name="Lisurname",
        username="lmm77",
        language_code=language,
    )
    photo, pdf = jpeg_with_gps(), pdf_with_author()
    reply = "REPLY-补充：每周六加班不给加班费"
    caplog.clear()  # building the test files above logged their contents; the product must not
    await reporter.begin_report("rights", "wages")
    await reporter.say(CONCERN, has_button(reporter.t("button.done")))
    mark = reporter.mark()
    await reporter.user.send_photo(photo, caption="CAPTION-公告栏照片")
    await reporter.expect(has_button(reporter.t("button.done")), mark)
    mark = reporter.mark()
    await reporter.user.send_document(pdf, "工资表-李美美.pdf", "application/pdf")
    await reporter.expect(has_button(reporter.t("button.done")), mark)
    filed = await reporter.finish_report(notify=True)
    triage = await stack.officer("triage1")
    await triage.triage(filed.reference, routing="union", note="请补充时间")
    await reporter.say("/status", says(reporter.t("status.ask_receipt")[:10]))
    await reporter.say(filed.receipt, has_button(reporter.t("status.reply_button")))
    await reporter.tap("status.reply_button", says(reporter.t("status.ask_reply")[:8]))
    await reporter.say(reply, says(reporter.t("status.reply_saved")))

    # The officer reads everything, so the scan below is not of an empty store.
    union = await stack.officer("union1")
    detail = await union.case(filed.reference)
    assert [i["text"] for i in detail["items"] if i["kind"] == "reply"] == [reply]
    downloads = [
        (await union.download(filed.reference, f["item_id"])).content
        for f in await union.attachments(filed.reference)
    ]
    assert len(downloads) == 2

    dump = (await dump_database(stack.app.storage.engine)).encode("utf-8", "replace")
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    files = files_under(stack.settings.data_dir)
    places = {"database": dump, "logs": logs} | {str(p): data for p, data in files.items()}
    assert any("speakup.db" in name for name in places) or "postgresql" in str(
        stack.settings.database_url
    )
    identifiers = [
        str(reporter.user.user_id),
        "Meimei",
        "Lisurname",
        "lmm77",
        "李美美",  # the original file name
        NAME,  # the author inside the PDF and the photo's EXIF
        "PhoneMaker",
    ]
    plaintexts = [CONCERN[:12], "CAPTION-公告栏", reply[:12], filed.receipt.replace(" ", "")]
    # Slices of the files' bytes, original and cleaned: no file at rest holds them in clear.
    chunks = [data[len(data) // 2 : len(data) // 2 + 48] for data in (photo, pdf, *downloads)]
    for where, content in places.items():
        for needle in identifiers + plaintexts:
            assert needle.encode() not in content, (needle, where)
        for chunk in chunks:
            assert chunk not in content, where
    for client in (triage, union):
        await client.close()
