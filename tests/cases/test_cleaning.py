"""Attacks on attachment cleaning: metadata that names or locates the reporter must not survive."""

from __future__ import annotations

import io
import logging
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

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


# Loggers an operator's logging set-up might turn up: Pillow's EXIF reader logs from these.
LIBRARY_LOGGERS = (
    "PIL",
    "PIL.Image",
    "PIL.TiffImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PngImagePlugin",
    "pypdf",
    "pypdf._reader",
)


@pytest.fixture
def library_loggers_at_debug() -> Iterator[None]:
    """The file libraries' child loggers explicitly at DEBUG, without any filter of ours,
    as an operator's logging configuration could leave them; restored afterwards."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved = [(logger.level, list(logger.filters)) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.filters.clear()
    yield
    for logger, (level, filters) in zip(loggers, saved, strict=True):
        logger.setLevel(level)
        logger.filters[:] = filters


@pytest.mark.usefixtures("library_loggers_at_debug")
def test_child_loggers_at_debug_log_nothing_read_from_a_photo(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given PIL's child loggers set to DEBUG, when a photo with its owner's name and GPS
    position is cleaned, then no captured record holds any of it."""
    photo, pdf = jpeg_with_gps(), pdf_with_author()
    assert logging.getLogger("PIL.TiffImagePlugin").isEnabledFor(logging.DEBUG)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    clean(photo, 1)
    clean(pdf, 2)
    logged = "\n".join(f"{r.name} {r.msg} {r.args} {r.getMessage()}" for r in caplog.records)
    for trace in (NAME, "PhoneMaker", "Artist", "GPS", "31.0", "121.0"):
        assert trace not in logged, trace
    assert not [r for r in caplog.records if r.name.startswith(("PIL", "pypdf"))]


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


# ---------------------------------------------------------------- files that hide a person
# A payslip someone saved on their own computer: their name, their folders, the camera
# position of a photo they placed in it — in places a viewer never shows.

WHO = "Zhang San"
USER_PATH = r"C:\Users\zhangsan\Desktop\zhangsan_payslip.xlsx"
WHEN = "D:20240102030405+08'00'"
TRACES = [WHO, "zhangsan", "payslip-secret", "20240102", "PhoneMaker", "Exif"]


def photo_with_exif(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> bytes:
    """A camera photo: the owner's name, the phone's make, where it was taken."""
    colours: dict[str, float | tuple[float, ...]] = {
        "RGB": (200, 30, 30),
        "L": 90,
        "CMYK": (0, 200, 200, 0),
    }
    image = Image.new(mode, size, colours[mode])
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = WHO
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 5.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 9.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def exif_block(jpeg: bytes) -> bytes:
    """The EXIF bytes (with the GPS directory) of a JPEG: none of them may survive."""
    block: bytes = Image.open(io.BytesIO(jpeg)).info["exif"]
    assert b"Exif" in block
    return block


def _stream(writer: PdfWriter, data: bytes, **entries: Any) -> Any:
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in entries.items():
        stream[NameObject("/" + key)] = value
    return writer._add_object(stream)


def _name(value: str) -> NameObject:
    return NameObject(value)


def _image_xobject(writer: PdfWriter, jpeg: bytes, flate: bool = False, **entries: Any) -> Any:
    size = Image.open(io.BytesIO(jpeg)).size
    colours = {"RGB": "/DeviceRGB", "L": "/DeviceGray", "CMYK": "/DeviceCMYK"}
    mode = Image.open(io.BytesIO(jpeg)).mode
    fields: dict[str, Any] = {
        "Type": _name("/XObject"),
        "Subtype": _name("/Image"),
        "Width": NumberObject(size[0]),
        "Height": NumberObject(size[1]),
        "ColorSpace": _name(colours[mode]),
        "BitsPerComponent": NumberObject(8),
        "Filter": _name("/DCTDecode"),
        **entries,
    }
    if flate:  # a JPEG compressed once more: the EXIF is only visible after inflating
        jpeg = zlib.compress(jpeg)
        fields["Filter"] = ArrayObject([_name("/FlateDecode"), _name("/DCTDecode")])
    return _stream(writer, jpeg, **fields)


def pdf_hiding_a_person(*, flate: bool = False, mode: str = "RGB") -> bytes:
    """One page showing a photo, with everything a reviewer found surviving a clean."""
    writer = PdfWriter()
    page = writer.add_blank_page(300, 300)
    xmp = _stream(
        writer,
        b"<x:xmpmeta><dc:creator>" + WHO.encode() + b"</dc:creator></x:xmpmeta>",
        Type=_name("/Metadata"),
        Subtype=_name("/XML"),
    )
    photo = _image_xobject(writer, photo_with_exif(mode), flate, Metadata=xmp)
    stamp = _stream(
        writer,
        b"0 0 1 rg 0 0 10 10 re f",
        Type=_name("/XObject"),
        Subtype=_name("/Form"),
        BBox=ArrayObject([NumberObject(0)] * 2 + [NumberObject(10)] * 2),
        Metadata=xmp,
        PieceInfo=DictionaryObject(
            {_name("/Illustrator"): DictionaryObject({_name("/Private"): TextStringObject(WHO)})}
        ),
    )
    page[_name("/Resources")] = DictionaryObject(
        {_name("/XObject"): DictionaryObject({_name("/Im0"): photo, _name("/Fm0"): stamp})}
    )
    page[_name("/Contents")] = _stream(writer, b"q 64 0 0 48 10 10 cm /Im0 Do Q /Fm0 Do")
    page[_name("/Thumb")] = _image_xobject(writer, photo_with_exif())
    attached = _stream(
        writer,
        b"payslip-secret of " + WHO.encode(),
        Type=_name("/EmbeddedFile"),
        Params=DictionaryObject(
            {
                _name("/CreationDate"): TextStringObject(WHEN),
                _name("/ModDate"): TextStringObject(WHEN),
            }
        ),
    )
    filespec = DictionaryObject(
        {
            _name("/Type"): _name("/Filespec"),
            _name("/F"): TextStringObject(USER_PATH),
            _name("/UF"): TextStringObject(USER_PATH),
            _name("/EF"): DictionaryObject({_name("/F"): attached}),
        }
    )
    rect = ArrayObject([NumberObject(0), NumberObject(0), NumberObject(20), NumberObject(20)])

    def annotation(subtype: str, **entries: Any) -> Any:
        fields: dict[NameObject, Any] = {
            _name("/Type"): _name("/Annot"),
            _name("/Subtype"): _name(subtype),
            _name("/Rect"): rect,
        }
        fields |= {_name("/" + k): v for k, v in entries.items()}
        return writer._add_object(DictionaryObject(fields))

    def action(kind: str, **entries: Any) -> DictionaryObject:
        fields = {_name("/S"): _name(kind)} | {_name("/" + k): v for k, v in entries.items()}
        return DictionaryObject(fields)

    attachment = annotation(
        "/FileAttachment",
        FS=writer._add_object(filespec),
        T=TextStringObject(WHO),
        CreationDate=TextStringObject(WHEN),
    )
    page[_name("/Annots")] = ArrayObject(
        [
            attachment,
            # Its pop-up note stays on the page, and leads back to it through /Parent.
            annotation("/Popup", Parent=attachment),
            annotation("/Link", A=action("/Launch", F=TextStringObject(USER_PATH))),
            annotation(
                "/Link", A=action("/URI", URI=TextStringObject("file:///C:/Users/zhangsan/x"))
            ),
            annotation("/Link", A=action("/URI", URI=TextStringObject("https://example.org/law"))),
        ]
    )
    # The document-level attachment list (the EmbeddedFiles name tree) too.
    writer.add_attachment("zhangsan_notes.txt", b"payslip-secret notes by " + WHO.encode())
    writer.add_metadata({"/Author": WHO, "/CreationDate": WHEN})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("flate", "mode"), [(False, "RGB"), (True, "RGB"), (False, "CMYK")])
def test_a_pdf_hides_no_person_once_cleaned(flate: bool, mode: str) -> None:
    original = pdf_hiding_a_person(flate=flate, mode=mode)
    before = PdfReader(io.BytesIO(original))
    assert before.attachments  # the attack is real: the original carries all of it
    if not flate:
        assert exif_block(photo_with_exif(mode))[:40] in original
        for trace in (WHO, "zhangsan", "payslip-secret", "Exif"):
            assert trace.encode() in original, trace
    cleaned = clean(original, 1).content
    for trace in TRACES:
        assert trace.encode() not in cleaned, trace
    assert exif_block(photo_with_exif(mode))[-40:] not in cleaned
    # It still opens, the photo is still there and decodes to the same picture.
    reader = PdfReader(io.BytesIO(cleaned))
    assert reader.attachments == {}
    [page] = reader.pages
    assert "/Thumb" not in page
    [image] = [i for i in page.images if "Im0" in i.name]
    assert image.image is not None
    assert image.image.size == (64, 48)
    assert image.image.mode == mode
    if mode == "RGB":
        red, green, blue = image.image.convert("RGB").getpixel((32, 24))  # type: ignore[misc]
        assert red > 150
        assert max(green, blue) < 80
    assert not image.image.getexif()
    # The attachment is gone; of the links only the web link still leads somewhere.
    annotations = [a.get_object() for a in page.get("/Annots", [])]
    assert {a["/Subtype"] for a in annotations} == {"/Link", "/Popup"}
    assert [a["/A"]["/URI"] for a in annotations if "/A" in a] == ["https://example.org/law"]
    # No object anywhere still carries /Metadata, /PieceInfo or an embedded file.
    for marker in (b"/Metadata", b"/PieceInfo", b"/EmbeddedFile", b"/Filespec", b"/Launch"):
        assert marker not in cleaned, marker


def test_a_pdf_painting_a_jpeg_inline_is_refused() -> None:
    """An inline image (BI … ID … EI) in JPEG form cannot be rebuilt in place: refused."""
    writer = PdfWriter()
    page = writer.add_blank_page(100, 100)
    jpeg = photo_with_exif(size=(8, 8))
    inline = b"q 8 0 0 8 0 0 cm BI /W 8 /H 8 /CS /RGB /BPC 8 /F /DCT ID " + jpeg + b" EI Q"
    page[_name("/Contents")] = _stream(writer, inline)
    out = io.BytesIO()
    writer.write(out)
    assert WHO.encode() in out.getvalue()
    with pytest.raises(AttachmentRefused) as refused:
        clean(out.getvalue(), 1)
    assert refused.value.reason is Refusal.DAMAGED


# Office parts as Office writes them (trimmed), with the traces a reviewer found in them.
_NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _rels(*relationships: tuple[str, str, str, str | None]) -> bytes:
    """A .rels part from (id, type suffix, target, target mode)."""
    items = "".join(
        f'<Relationship Id="{rid}" '
        f'Type="{kind if kind.startswith("http") else f"{_REL_DOC}/{kind}"}" Target="{target}"'
        + (f' TargetMode="{mode}"' if mode else "")
        + "/>"
        for rid, kind, target, mode in relationships
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_NS_REL}">'
        f"{items}</Relationships>"
    ).encode()


def _content_types(main: str, *overrides: str) -> bytes:
    items = "".join(
        f'<Override PartName="{part}" ContentType="application/xml"/>' for part in overrides
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_NS_TYPES}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        f'<Override PartName="/{main}" ContentType="application/xml"/>{items}</Types>'
    ).encode()


def core_properties(creator: str) -> bytes:
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator>{creator}</dc:creator><dc:date>2024-01-02T03:04:05Z</dc:date>"
        "</cp:coreProperties>"
    ).encode()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _custom_xml_and_thumbnail() -> dict[str, bytes]:
    """SharePoint properties naming the author, and a thumbnail photo of the first page."""
    return {
        "customXml/item1.xml": (
            '<p:properties xmlns:p="http://schemas.microsoft.com/office/2006/metadata/properties">'
            f"<Author>{WHO}</Author></p:properties>"
        ).encode(),
        "customXml/itemProps1.xml": (
            b'<ds:datastoreItem ds:itemID="{1}" '
            b'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>'
        ),
        "customXml/_rels/item1.xml.rels": _rels(("rId1", "customXmlProps", "itemProps1.xml", None)),
        "docProps/thumbnail.jpeg": photo_with_exif(),
    }


WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<fileVersion appName="xl" lastEdited="7"/>'
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\zhangsan\\Desktop\\" '
    'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/>'
    "</mc:Choice></mc:AlternateContent>"
    '<sheets><sheet name="工资" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()


def xlsx_hiding_a_person(*, creator: str = WHO) -> bytes:
    parts = {
        "[Content_Types].xml": _content_types(
            "xl/workbook.xml",
            "/customXml/item1.xml",
            "/customXml/itemProps1.xml",
            "/docProps/core.xml",
        ),
        "_rels/.rels": _rels(
            ("rId1", "officeDocument", "xl/workbook.xml", None),
            ("rId2", "metadata/thumbnail", "docProps/thumbnail.jpeg", None),
            ("rId3", "metadata/core-properties", "docProps/core.xml", None),
        ),
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": _rels(
            ("rId1", "worksheet", "worksheets/sheet1.xml", None),
            ("rId2", "customXml", "../customXml/item1.xml", None),
            ("rId3", "externalLink", "externalLinks/externalLink1.xml", None),
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns:r="{_REL_DOC}"><sheetData><row><c><v>8000</v></c></row>'
            '</sheetData><pageSetup paperSize="9" r:id="rId1"/></worksheet>'
        ).encode(),
        "xl/worksheets/_rels/sheet1.xml.rels": _rels(
            ("rId1", "printerSettings", "../printerSettings/printerSettings1.bin", None)
        ),
        # A DEVMODE: the printer's name (here the reporter's own) in UTF-16.
        "xl/printerSettings/printerSettings1.bin": "\\\\PRN\\zhangsan-HP".encode("utf-16-le")
        + bytes(200),
        "xl/externalLinks/externalLink1.xml": (
            f'<externalLink xmlns:r="{_REL_DOC}"><externalBook r:id="rId1"/></externalLink>'
        ).encode(),
        "xl/externalLinks/_rels/externalLink1.xml.rels": _rels(
            ("rId1", "externalLinkPath", "file:///" + USER_PATH, "External")
        ),
        "docProps/core.xml": core_properties(creator),
        **_custom_xml_and_thumbnail(),
    }
    return _zip(parts)


def everything(package: bytes) -> bytes:
    """The zip's own bytes, every part inflated, and the same for zips inside it."""
    found = [package]
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            found += [info.filename.encode(), data]
            if data.startswith(b"PK\x03\x04"):
                found.append(everything(data))
    return b"\n".join(found)


def parse_xml(data: bytes) -> ElementTree.Element:
    # The parts are the cleaner's output for files these tests built themselves.
    return ElementTree.fromstring(data)  # noqa: S314


def assert_package_opens(package: bytes) -> zipfile.ZipFile:
    """Every part is intact and well-formed; every internal link leads to a part that exists;
    every declared part exists."""
    archive = zipfile.ZipFile(io.BytesIO(package))
    assert archive.testzip() is None
    names = set(archive.namelist())
    for name in names:
        if name.endswith((".xml", ".rels")) and archive.read(name):
            parse_xml(archive.read(name))
    for name in (n for n in names if n.endswith(".rels")):
        folder = posixpath.dirname(posixpath.dirname(name))
        for rel in parse_xml(archive.read(name)):
            if rel.get("TargetMode") != "External":
                target = posixpath.join(folder, rel.get("Target", "")).lstrip("/")
                assert posixpath.normpath(target) in names, (name, target)
    types = parse_xml(archive.read("[Content_Types].xml"))
    for override in types.iter(f"{{{_NS_TYPES}}}Override"):
        assert override.get("PartName", "").lstrip("/") in names, override.get("PartName")
    return archive


def test_an_xlsx_hides_no_person_once_cleaned() -> None:
    original = xlsx_hiding_a_person()
    assert b"zhangsan" in everything(original)
    cleaned = clean(original, 1)
    assert cleaned.filename == "attachment-1.xlsx"
    inside = everything(cleaned.content)
    for trace in [*TRACES, "absPath", "customXml", "thumbnail", "printerSettings"]:
        assert trace.encode() not in inside, trace
        assert trace.encode("utf-16-le") not in inside, trace
    assert exif_block(photo_with_exif())[-40:] not in inside
    archive = assert_package_opens(cleaned.content)
    workbook = parse_xml(archive.read("xl/workbook.xml"))
    [sheet] = workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")
    assert sheet.get("name") == "工资"
    sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<v>8000</v>" in sheet_xml
    assert b'<pageSetup paperSize="9"/>' in sheet_xml
    # The external workbook link is still declared (the part refers to it) but leads nowhere.
    link = archive.read("xl/externalLinks/_rels/externalLink1.xml.rels")
    assert b'Id="rId1"' in link
    assert b'Target="about:blank"' in link


DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<w:body><w:p w:rsidR="00A1B2C3" w:rsidRDefault="00D4E5F6"><w:r w:rsidRPr="0012AB34">'
    "<w:t>工资被克扣三个月</w:t></w:r></w:p>"
    '<w:p><w:hyperlink r:id="rId9"><w:r><w:t>规定</w:t></w:r></w:hyperlink></w:p>'
    "</w:body></w:document>"
).encode()
SETTINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<w:attachedTemplate r:id="rId1"/><w:defaultTabStop w:val="420"/>'
    '<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00D4E5F6"/></w:rsids>'
    f'<w:docVars><w:docVar w:name="DMS_Author" w:val="{WHO}"/></w:docVars>'
    "</w:settings>"
).encode()


def docx_hiding_a_person(extra: dict[str, bytes] | None = None) -> bytes:
    parts = {
        "[Content_Types].xml": _content_types(
            "word/document.xml", "/word/settings.xml", "/customXml/item1.xml", "/docProps/core.xml"
        ),
        "_rels/.rels": _rels(
            ("rId1", "officeDocument", "word/document.xml", None),
            ("rId2", "metadata/thumbnail", "docProps/thumbnail.jpeg", None),
        ),
        "word/document.xml": DOCUMENT,
        "word/settings.xml": SETTINGS,
        "word/_rels/document.xml.rels": _rels(
            ("rId1", "settings", "settings.xml", None),
            ("rId2", "customXml", "../customXml/item1.xml", None),
            ("rId9", "hyperlink", "https://example.org/law", "External"),
            ("rId10", "image", "file:///" + USER_PATH.replace(".xlsx", ".jpg"), "External"),
        ),
        "word/_rels/settings.xml.rels": _rels(
            (
                "rId1",
                "attachedTemplate",
                "file:///C:\\Users\\zhangsan\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm",
                "External",
            )
        ),
        "docProps/core.xml": core_properties(WHO),
        **_custom_xml_and_thumbnail(),
        **(extra or {}),
    }
    return _zip(parts)


def test_a_docx_hides_no_person_once_cleaned() -> None:
    original = docx_hiding_a_person()
    cleaned = clean(original, 2)
    assert cleaned.filename == "attachment-2.docx"
    inside = everything(cleaned.content)
    for trace in [*TRACES, "attachedTemplate", "Normal.dotm", "rsid", "docVar", "00A1B2C3"]:
        assert trace.encode() not in inside, trace
    archive = assert_package_opens(cleaned.content)
    # The main document is intact apart from the revision ids: same text, same link.
    document = parse_xml(archive.read("word/document.xml"))
    text = "".join(t.text or "" for t in document.iter() if t.tag.endswith("}t"))
    assert text == "工资被克扣三个月规定"
    rels = archive.read("word/_rels/document.xml.rels")
    assert b'Target="https://example.org/law"' in rels
    assert b'Id="rId10"' in rels
    assert b'Target="about:blank"' in rels
    settings = parse_xml(archive.read("word/settings.xml"))
    assert [e.tag.split("}")[1] for e in settings] == ["defaultTabStop"]


def test_the_workbook_behind_a_chart_is_cleaned_like_any_xlsx() -> None:
    chart_data = "word/embeddings/Microsoft_Excel_Worksheet.xlsx"
    original = docx_hiding_a_person(
        {
            "word/charts/chart1.xml": (
                '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
                f'xmlns:r="{_REL_DOC}"><c:externalData r:id="rId1"/></c:chartSpace>'
            ).encode(),
            "word/charts/_rels/chart1.xml.rels": _rels(
                ("rId1", "package", "../embeddings/Microsoft_Excel_Worksheet.xlsx", None)
            ),
            chart_data: xlsx_hiding_a_person(creator="Zhang San (chart)"),
        }
    )
    assert WHO.encode() in everything(original)
    cleaned = clean(original, 1)
    inside = everything(cleaned.content)
    for trace in TRACES:
        assert trace.encode() not in inside, trace
    nested = assert_package_opens(cleaned.content).read(chart_data)
    assert_package_opens(nested)


@pytest.mark.parametrize(
    "extra",
    [
        {"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0 OLE " + WHO.encode()},
        # A whole document embedded as an object (not a chart's data), with its own author.
        {"word/embeddings/Microsoft_Word_Document.docx": docx()},
    ],
)
def test_office_files_with_embedded_files_are_refused(extra: dict[str, bytes]) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        clean(docx_hiding_a_person(extra), 1)
    assert refused.value.reason is Refusal.EMBEDDED


# Where Office keeps names that the usual paths miss (a reviewer's findings).
_PACKAGE_CORE = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
)
_CT = "application/vnd.openxmlformats-officedocument"


def xlsx_with(
    workbook: bytes = WORKBOOK,
    *,
    package_rels: tuple[tuple[str, str, str, str | None], ...] = (),
    workbook_rels: tuple[tuple[str, str, str, str | None], ...] = (),
    types: tuple[tuple[str, str], ...] = (),
    parts: dict[str, bytes] | None = None,
) -> bytes:
    """A small xlsx whose extra parts, relationships and content types a test chooses."""
    overrides = "".join(
        f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in types
    )
    return _zip(
        {
            "[Content_Types].xml": _content_types("xl/workbook.xml").replace(
                b"</Types>", overrides.encode() + b"</Types>"
            ),
            "_rels/.rels": _rels(
                ("rId1", "officeDocument", "xl/workbook.xml", None), *package_rels
            ),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": _rels(
                ("rId1", "worksheet", "worksheets/sheet1.xml", None), *workbook_rels
            ),
            "xl/worksheets/sheet1.xml": b"<worksheet><sheetData/></worksheet>",
            **(parts or {}),
        }
    )


# Long enough that only the package's declarations can tell what the part holds.
_PADDING = b"<!--" + b" " * 5000 + b"-->"


def assert_no_one_named(original: bytes, cleaned: bytes) -> zipfile.ZipFile:
    assert WHO.encode() in everything(original)
    inside = everything(cleaned)
    assert WHO.encode() not in inside
    assert WHO.encode("utf-16-le") not in inside
    return assert_package_opens(cleaned)


@pytest.mark.parametrize(
    "sharing",
    [
        # "Read-only recommended" with a password to modify, as Excel writes it.
        f'<fileSharing readOnlyRecommended="1" userName="{WHO}" algorithmName="SHA-512" '
        'hashValue="c2VjcmV0" saltValue="c2FsdA==" spinCount="100000"/>',
        # A prefixed element, a `>` inside the value, a closing tag.
        f'<x:fileSharing userName="{WHO} > team" reservationPassword="CC1A"></x:fileSharing>',
    ],
)
def test_a_protected_workbook_keeps_no_user_name(sharing: str) -> None:
    workbook = WORKBOOK.replace(b'<fileVersion appName="xl" lastEdited="7"/>', sharing.encode())
    original = xlsx_with(workbook)
    archive = assert_no_one_named(original, clean(original, 1).content)
    cleaned = archive.read("xl/workbook.xml")
    assert b"fileSharing" not in cleaned
    assert b"hashValue" not in cleaned
    assert b"reservationPassword" not in cleaned
    assert b'name="\xe5\xb7\xa5\xe8\xb5\x84"' in cleaned  # the sheet 工资 is still there


def test_a_shared_workbooks_personal_views_keep_no_user_name() -> None:
    views = (
        "<bookViews><workbookView/></bookViews><customWorkbookViews>"
        f'<customWorkbookView name="{WHO} - Personal View" guid="{{A1}}" personalView="1" '
        'windowWidth="800" windowHeight="600" activeSheetId="1"/>'
        '<customWorkbookView name="Quarterly" guid="{A2}" windowWidth="800" '
        'windowHeight="600" activeSheetId="1"/></customWorkbookViews>'
    )
    workbook = WORKBOOK.replace(b"</sheets>", b"</sheets>" + views.encode())
    original = xlsx_with(workbook)
    archive = assert_no_one_named(original, clean(original, 1).content)
    cleaned = archive.read("xl/workbook.xml")
    assert b'name="Personal View 1" guid="{A1}" personalView="1"' in cleaned
    assert b'name="Quarterly"' in cleaned  # a view the author named is content


_USER_NAMES = (
    f'<users xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
    f'<userInfo guid="{{B1}}" name="{WHO}" id="1" dateTime="2024-01-02T03:04:05"/></users>'
).encode()
_REVISION_HEADERS = (
    f'<headers xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_REL_DOC}" guid="{{B2}}"><header guid="{{B3}}" dateTime="2024-01-02T03:04:05" '
    f'maxSheetId="2" userName="{WHO}" r:id="rId1"/></headers>'
).encode()


@pytest.mark.parametrize(
    ("workbook_rels", "types", "parts"),
    [
        # A shared workbook as Excel writes it: its change history and its users.
        (
            (
                ("rId7", "usernames", "revisions/userNames.xml", None),
                ("rId8", "revisionHeaders", "revisions/revisionHeaders.xml", None),
            ),
            (),
            {
                "xl/revisions/userNames.xml": _USER_NAMES,
                "xl/revisions/revisionHeaders.xml": _REVISION_HEADERS,
            },
        ),
        # The user list somewhere else, found by its relationship type only.
        (
            (("rId7", "usernames", "history/list.xml", None),),
            (),
            {"xl/history/list.xml": _USER_NAMES},
        ),
        # ... or by its content type only.
        (
            (),
            (("/xl/history/list.xml", f"{_CT}.spreadsheetml.userNames+xml"),),
            {"xl/history/list.xml": _USER_NAMES},
        ),
        # The history headers alone, at an unusual place: their `userName` gives them away.
        ((), (), {"xl/h/h.xml": _REVISION_HEADERS}),
    ],
)
def test_a_shared_workbooks_history_is_refused_like_tracked_changes(
    workbook_rels: tuple[tuple[str, str, str, str | None], ...],
    types: tuple[tuple[str, str], ...],
    parts: dict[str, bytes],
) -> None:
    original = xlsx_with(workbook_rels=workbook_rels, types=types, parts=parts)
    with pytest.raises(AttachmentRefused) as refused:
        clean(original, 1)
    assert refused.value.reason is Refusal.AUTHORS


def test_a_presentations_comment_author_list_is_refused() -> None:
    original = _zip(
        {
            "[Content_Types].xml": _content_types("ppt/presentation.xml"),
            "_rels/.rels": _rels(("rId1", "officeDocument", "ppt/presentation.xml", None)),
            "ppt/presentation.xml": b"<presentation/>",
            "ppt/_rels/presentation.xml.rels": _rels(
                (
                    "rId9",
                    "http://schemas.microsoft.com/office/2018/10/relationships/authors",
                    "people-who-commented.xml",
                    None,
                )
            ),
            "ppt/people-who-commented.xml": (
                f'<p188:authorLst><p188:author id="{{C1}}" name="{WHO}" initials="ZS"/>'
                "</p188:authorLst>"
            ).encode(),
        }
    )
    with pytest.raises(AttachmentRefused) as refused:
        clean(original, 1)
    assert refused.value.reason is Refusal.AUTHORS


def test_a_presentations_revision_list_is_left_out() -> None:
    original = _zip(
        {
            "[Content_Types].xml": _content_types("ppt/presentation.xml", "/ppt/revisionInfo.xml"),
            "_rels/.rels": _rels(("rId1", "officeDocument", "ppt/presentation.xml", None)),
            "ppt/presentation.xml": b"<presentation/>",
            "ppt/_rels/presentation.xml.rels": _rels(
                (
                    "rId9",
                    "http://schemas.microsoft.com/office/2015/10/relationships/revisionInfo",
                    "revisionInfo.xml",
                    None,
                )
            ),
            "ppt/revisionInfo.xml": (
                b'<revInfo><revLst><client id="{D1E2F3A4-0000-1111-2222-'
                b'333344445555}" v="2" dt="2024-01-02T03:04:05.123"/></revLst>'
                b"</revInfo>"
            ),
        }
    )
    inside = everything(clean(original, 1).content)
    assert b"D1E2F3A4" not in inside
    assert b"revisionInfo" not in inside
    assert_package_opens(clean(original, 1).content)


@pytest.mark.parametrize(
    ("part", "package_rels", "types"),
    [
        # Core properties where `_rels/.rels` says they are, not where they usually are.
        ("meta/core.xml", (("rId2", _PACKAGE_CORE, "meta/core.xml", None),), ()),
        # The usual place in another case: part names are not case-sensitive.
        ("docProps/Core.xml", (("rId2", _PACKAGE_CORE, "docProps/Core.xml", None),), ()),
        ("docProps/Core.xml", (), ()),
        # Declared by a first-edition relationship type, or by content type only.
        ("meta/props.xml", (("rId2", "metadata/core-properties", "/meta/props.xml", None),), ()),
        (
            "meta/props.xml",
            (),
            (("/meta/props.xml", "application/vnd.openxmlformats-package.core-properties+xml"),),
        ),
        # Declared nowhere at all: recognised by what it is.
        ("leftover/old.xml", (), ()),
    ],
)
def test_core_properties_are_emptied_wherever_the_package_keeps_them(
    part: str,
    package_rels: tuple[tuple[str, str, str, str | None], ...],
    types: tuple[tuple[str, str], ...],
) -> None:
    declared = bool(package_rels or types) or part.lower() == "docprops/core.xml"
    properties = (_PADDING if declared else b"") + core_properties(WHO)
    original = xlsx_with(package_rels=package_rels, types=types, parts={part: properties})
    archive = assert_no_one_named(original, clean(original, 1).content)
    emptied = parse_xml(archive.read(part))
    assert emptied.tag.endswith("}coreProperties")
    assert list(emptied) == []


@pytest.mark.parametrize(
    ("kind", "root_namespace"),
    [("extended-properties", "extended-properties"), ("custom-properties", "custom-properties")],
)
def test_app_and_custom_properties_are_emptied_wherever_the_package_keeps_them(
    kind: str, root_namespace: str
) -> None:
    properties = (
        f'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'{root_namespace}"><Company>{WHO} Ltd</Company><Manager>{WHO}</Manager></Properties>'
    ).encode()
    for part, package_rels, padding in [
        ("Meta/App.XML", (("rId2", kind, "Meta/App.XML", None),), _PADDING),
        ("meta/undeclared.xml", (), b""),
    ]:
        original = xlsx_with(package_rels=package_rels, parts={part: padding + properties})
        archive = assert_no_one_named(original, clean(original, 1).content)
        emptied = parse_xml(archive.read(part))
        assert emptied.tag == (
            f"{{http://schemas.openxmlformats.org/officeDocument/2006/{root_namespace}}}Properties"
        )
        assert list(emptied) == []
