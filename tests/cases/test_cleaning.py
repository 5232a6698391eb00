"""Attacks on attachment cleaning: metadata that names or locates the reporter must not survive."""

from __future__ import annotations

import io
import logging
import zipfile

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader, PdfWriter

from cases.cleaning import AttachmentRefused, Refusal, clean

NAME = "Wang Xiaoming"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator>Wang Xiaoming</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = NAME
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 5.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 9.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf_with_author() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": NAME, "/Creator": "Office of " + NAME})
    writer.xmp_metadata = XMP
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    parts = {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document><w:body>text</w:body></w:document>",
        "docProps/core.xml": b"<cp:coreProperties><dc:creator>Wang Xiaoming</dc:creator>"
        b"<cp:lastModifiedBy>wxm</cp:lastModifiedBy></cp:coreProperties>",
        "docProps/app.xml": b"<Properties><Company>Wang Xiaoming Ltd</Company></Properties>",
        "word/media/image1.jpeg": jpeg_with_gps(),
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_jpeg_with_gps_comes_out_without_any_exif() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    cleaned = clean(original, 1)
    assert cleaned.filename == "attachment-1.jpg"
    assert cleaned.mime == "image/jpeg"
    image = Image.open(io.BytesIO(cleaned.content))
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"Exif" not in cleaned.content
    assert NAME.encode() not in cleaned.content
    # The orientation tag is gone, so the pixels were turned instead (64x48 → 48x64).
    assert image.size == (48, 64)


def test_png_text_chunks_are_dropped() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", NAME)
    out = io.BytesIO()
    Image.new("RGBA", (8, 8)).save(out, "PNG", pnginfo=info)
    cleaned = clean(out.getvalue(), 3)
    assert cleaned.filename == "attachment-3.png"
    assert NAME.encode() not in cleaned.content
    assert not Image.open(io.BytesIO(cleaned.content)).text  # type: ignore[attr-defined]


def test_pdf_author_and_xmp_are_gone() -> None:
    original = pdf_with_author()
    before = PdfReader(io.BytesIO(original))
    assert before.metadata is not None
    assert str(before.metadata["/Author"]) == NAME
    assert before.xmp_metadata is not None
    cleaned = clean(original, 2)
    assert cleaned.filename == "attachment-2.pdf"
    reader = PdfReader(io.BytesIO(cleaned.content))
    assert len(reader.pages) == 1
    assert not reader.metadata
    assert reader.xmp_metadata is None
    assert "/Metadata" not in reader.root_object
    assert NAME.encode() not in cleaned.content


def test_encrypted_pdf_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(AttachmentRefused) as refused:
        clean(out.getvalue(), 1)
    assert refused.value.reason is Refusal.ENCRYPTED


def test_docx_properties_are_emptied_and_embedded_photo_cleaned() -> None:
    cleaned = clean(docx(), 4)
    assert cleaned.filename == "attachment-4.docx"
    assert NAME.encode() not in cleaned.content
    archive = zipfile.ZipFile(io.BytesIO(cleaned.content))
    assert b"Wang" not in archive.read("docProps/core.xml")
    assert b"Wang" not in archive.read("docProps/app.xml")
    assert archive.read("word/document.xml").endswith(b"</w:document>")
    photo = Image.open(io.BytesIO(archive.read("word/media/image1.jpeg")))
    assert not photo.getexif()
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"word/comments.xml": b"<w:comments/>"}, Refusal.AUTHORS),
        (
            {"word/document.xml": b'<w:document><w:ins w:author="Wang"/></w:document>'},
            Refusal.AUTHORS,
        ),
        ({"word/vbaProject.bin": b"\x00"}, Refusal.MACROS),
    ],
)
def test_office_files_that_name_people_or_run_code_are_refused(
    extra: dict[str, bytes], reason: Refusal
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        clean(docx(extra), 1)
    assert refused.value.reason is reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"MZ\x90\x00 an executable", Refusal.TYPE),
        (b"\x1a\x45\xdf\xa3 a video", Refusal.TYPE),
        (b"\xff\xd8\xff\xe0 truncated jpeg", Refusal.DAMAGED),
        (b"%PDF-1.7 garbage", Refusal.DAMAGED),
        (b"PK\x03\x04 not really a zip", Refusal.DAMAGED),
    ],
)
def test_other_or_broken_files_are_refused(content: bytes, reason: Refusal) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        clean(content, 1)
    assert refused.value.reason is reason


def test_size_limit_is_checked_and_capped_at_telegrams() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        clean(jpeg_with_gps(), 1, max_bytes=100)
    assert refused.value.reason is Refusal.TOO_BIG
    with pytest.raises(AttachmentRefused):
        clean(b"\xff\xd8\xff" + bytes(21 * 1024 * 1024), 1, max_bytes=50 * 1024 * 1024)


def test_cleaning_logs_nothing_read_from_the_file(caplog: pytest.LogCaptureFixture) -> None:
    """Pillow logs EXIF values at DEBUG; with everything at DEBUG nothing of them appears."""
    original, pdf = jpeg_with_gps(), pdf_with_author()
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("PIL").setLevel(logging.NOTSET)
    clean(original, 1)
    clean(pdf, 2)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert NAME not in logs
    assert "PhoneMaker" not in logs


@pytest.mark.parametrize(
    ("main_part", "extension"),
    [("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx")],
)
def test_spreadsheets_and_presentations_are_cleaned_too(main_part: str, extension: str) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr(main_part, b"<main/>")
        archive.writestr("docProps/core.xml", b"<c><dc:creator>Wang Xiaoming</dc:creator></c>")
    cleaned = clean(out.getvalue(), 5)
    assert cleaned.filename == f"attachment-5.{extension}"
    assert NAME.encode() not in cleaned.content


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_other_images_become_plain_png(fmt: str) -> None:
    out = io.BytesIO()
    image = Image.new("RGB", (16, 16), (1, 2, 3))
    if fmt == "WEBP":
        exif = Image.Exif()
        exif[ExifTags.Base.Artist] = NAME
        image.save(out, fmt, exif=exif)
        assert NAME.encode() in out.getvalue()
    else:
        image.save(out, fmt, comment=NAME.encode())
        assert NAME.encode() in out.getvalue()
    cleaned = clean(out.getvalue(), 1)
    assert cleaned.filename == "attachment-1.png"
    assert NAME.encode() not in cleaned.content


def test_pdf_comment_authors_are_removed() -> None:
    from pypdf.annotations import Text
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    note = Text(rect=(10, 10, 30, 30), text="see the ledger")
    note[NameObject("/T")] = TextStringObject(NAME)
    writer.add_annotation(0, note)
    out = io.BytesIO()
    writer.write(out)
    assert NAME.encode() in out.getvalue()
    cleaned = clean(out.getvalue(), 1)
    assert NAME.encode() not in cleaned.content
    annotations = PdfReader(io.BytesIO(cleaned.content)).pages[0].annotations
    assert annotations is not None
    [annotation] = list(annotations)
    assert annotation.get_object()["/Contents"] == "see the ledger"
