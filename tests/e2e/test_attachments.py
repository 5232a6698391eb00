"""Photos and documents in a report, end to end: downloaded by the bot, cleaned, sealed, and
readable by the officers — through the fake Bot API, the real bot and the admin API."""

from __future__ import annotations

import asyncio
import io
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.devtools.scripted import has_button, says
from tests.cases.test_cleaning import NAME, docx, jpeg_with_gps, pdf_with_author
from tests.e2e.conftest import Stack

LANGS = ["zh-hans", "en"]


@pytest.mark.parametrize("language", LANGS)
async def test_photo_pdf_and_docx_reach_the_officer_cleaned(stack: Stack, language: str) -> None:
    r = stack.reporter(773001, language_code=language)
    await r.begin_report(None, "other")
    await r.say("see the files", has_button(r.t("button.done")))
    uploads: list[tuple[bytes, str | None]] = [
        (jpeg_with_gps(), None),
        (pdf_with_author(), "工资表-王小明.pdf"),
        (docx(), "Wang Xiaoming notes.docx"),
    ]
    for content, name in uploads:
        mark = r.mark()
        if name is None:
            await r.user.send_photo(content, caption="the notice board")
        else:
            await r.user.send_document(content, name)
        await r.expect(has_button(r.t("button.done")), mark)
    added = [e.text for e in stack.fake.bot_messages(r.chat_id) if "attachment-" in e.text]
    assert len(added) == 3
    mark = r.mark()
    await r.user.press(r.t("button.done"))
    review = await r.expect(has_button(r.t("button.confirm")), mark)
    assert "3" in review.text
    filed = await r.finish_report_from_review(notify=False)

    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == "see the files\n\nthe notice board"
    files = await triage.attachments(filed.reference)
    assert [f["filename"] for f in files] == [
        "attachment-1.jpg",
        "attachment-2.pdf",
        "attachment-3.docx",
    ]
    photo, pdf, document = [await triage.download(filed.reference, f["item_id"]) for f in files]
    assert photo.headers["content-disposition"] == 'attachment; filename="attachment-1.jpg"'
    assert photo.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(photo.content))
    assert not image.getexif()
    assert b"Exif" not in photo.content
    reader = PdfReader(io.BytesIO(pdf.content))
    assert not reader.metadata
    assert reader.xmp_metadata is None
    core = zipfile.ZipFile(io.BytesIO(document.content)).read("docProps/core.xml")
    assert b"Wang" not in core
    for response in (photo, pdf, document):
        assert NAME.encode() not in response.content
    # Each download is audited like a view.
    admin = await stack.officer("admin1")
    audit = await admin.get("/audit", action="attachment_viewed")
    assert len(audit) == 3
    assert {a["case_reference"] for a in audit} == {filed.reference}
    # A queue that does not hold the case cannot even see that the attachment exists.
    union = await stack.officer("union1")
    missing = await union.http.get(
        f"/api/v1/cases/{filed.reference}/attachments/{files[0]['item_id']}"
    )
    assert missing.status_code == 404
    for client in (triage, admin, union):
        await client.close()


@pytest.mark.parametrize("language", LANGS)
async def test_an_album_becomes_one_set_of_attachments_of_one_draft(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(773002, language_code=language)
    await r.begin_report(None, "other")
    await r.say("three photos of the broken guard", has_button(r.t("button.done")))
    mark = r.mark()
    for index in range(3):
        await r.user.send_photo(jpeg_with_gps(), media_group_id="album-1", width=64 + index)
    await r.expect(says(r.t("file.album_added")[:20]), mark)
    await asyncio.sleep(0.5)
    answers = [e for e in stack.fake.bot_messages(r.chat_id) if e.sequence > mark]
    assert len(answers) == 1  # one answer for the whole album
    mark = r.mark()
    await r.user.press(r.t("button.done"))
    review = await r.expect(has_button(r.t("button.confirm")), mark)
    assert r.t("report.review_files").format(count=3) in review.text
    filed = await r.finish_report_from_review(notify=False)
    triage = await stack.officer("triage1")
    assert [c["reference"] for c in await triage.cases()] == [filed.reference]
    files = await triage.attachments(filed.reference)
    assert [f["filename"] for f in files] == [f"attachment-{i}.jpg" for i in (1, 2, 3)]
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_files_that_cannot_be_cleaned_are_refused_and_the_draft_is_kept(
    stack: Stack, language: str
) -> None:
    r = stack.reporter(773003, language_code=language)
    await r.begin_report(None, "other")
    await r.say("kept words", has_button(r.t("button.done")))
    cases = (
        (b"MZ\x90\x00 program", "setup.exe", "file.refused.type"),
        (docx({"word/comments.xml": b"<w:comments/>"}), "notes.docx", "file.refused.authors"),
        (b"%PDF-1.4 broken", "scan.pdf", "file.refused.damaged"),
    )
    for content, name, key in cases:
        mark = r.mark()
        await r.user.send_document(content, name)
        refusal = await r.expect(has_button(r.t("button.done")), mark)
        assert refusal.text.startswith(r.t(key)[:12]), refusal.text
    # Larger than Telegram lets bots download: refused from the declared size.
    mark = r.mark()
    await r.user.send_document(bytes(20 * 1024 * 1024 + 1), "video.pdf")
    refusal = await r.expect(has_button(r.t("button.done")), mark)
    assert refusal.text == r.t("file.refused.too_big").format(limit=20)
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    assert (await triage.case(filed.reference))["report"] == "kept words"
    assert await triage.attachments(filed.reference) == []
    await triage.close()


async def test_forwarded_photo_is_warned_about_and_the_eleventh_file_refused(
    stack: Stack,
) -> None:
    r = stack.reporter(773004, language_code="zh-hans")
    await r.begin_report(None, "other")
    await r.say("照片", has_button(r.t("button.done")))
    origin = {
        "type": "user",
        "date": 1,
        "sender_user": {"id": 99, "is_bot": False, "first_name": "Boss"},
    }
    stored = stack.fake.add_file(jpeg_with_gps(), "jpg")
    size = {"file_id": stored.file_id, "file_unique_id": "f1", "width": 64, "height": 48}
    mark = r.mark()
    await r.user.send_message(photo=[size], forward_origin=origin)
    warned = await r.expect(has_button(r.t("button.done")), mark)
    assert warned.text.startswith(r.t("forward.warning"))
    for _ in range(9):
        mark = r.mark()
        await r.user.send_photo(jpeg_with_gps())
        await r.expect(has_button(r.t("button.done")), mark)
    mark = r.mark()
    await r.user.send_photo(jpeg_with_gps())
    refused = await r.expect(has_button(r.t("button.done")), mark)
    assert refused.text == r.t("file.refused.too_many").format(count=10, total=50)
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    assert len(await triage.attachments(filed.reference)) == 10
    assert "Boss" not in str(await triage.case(filed.reference))
    await triage.close()
