"""Cleaning a reporter's file before it is sealed: metadata out, a neutral name, or a refusal.

Files say more than their content: a phone photo carries the GPS position and the camera's
serial number in EXIF, a PDF its author and the software licence holder, an Office file the
account name that created and last saved it. Each accepted kind is rebuilt from its content
only; everything else is refused, because a file we cannot clean is a file that may name the
reporter (P9). The kind is read from the bytes, never from the name the reporter's phone gave.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject

from cases.intake import Attachment

# Telegram lets bots download files up to 20 MB; no setting can raise that.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
# A decoded image larger than this is refused (decompression bombs).
MAX_PIXELS = 50_000_000
# Office files are zips: refuse ones that expand beyond this, or have absurdly many parts.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_PARTS = 5000


class Refusal(StrEnum):
    """Why a file was not added; each has a message in both catalogs (`file.refused.<code>`)."""

    TOO_BIG = "too_big"
    TOO_MANY = "too_many"
    TYPE = "type"
    DAMAGED = "damaged"
    ENCRYPTED = "encrypted"
    MACROS = "macros"
    AUTHORS = "authors"


class AttachmentRefused(Exception):
    """The file is not added to the report; `reason` says why, in words the reporter gets."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class _Kind:
    extension: str
    mime: str


JPEG = _Kind("jpg", "image/jpeg")
PNG = _Kind("png", "image/png")
PDF = _Kind("pdf", "application/pdf")
_OFFICE = {
    "word/document.xml": _Kind(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "xl/workbook.xml": _Kind(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "ppt/presentation.xml": _Kind(
        "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}


def clean(content: bytes, number: int, *, max_bytes: int = TELEGRAM_DOWNLOAD_LIMIT) -> Attachment:
    """The cleaned file, renamed `attachment-<number>.<ext>`; or `AttachmentRefused`."""
    _quiet_libraries()
    if len(content) > min(max_bytes, TELEGRAM_DOWNLOAD_LIMIT):
        raise AttachmentRefused(Refusal.TOO_BIG)
    if content.startswith(b"%PDF-"):
        kind, cleaned = PDF, clean_pdf(content)
    elif content.startswith(b"PK\x03\x04"):
        kind, cleaned = clean_office(content)
    elif _looks_like_image(content):
        kind, cleaned = clean_image(content)
    else:
        raise AttachmentRefused(Refusal.TYPE)
    return Attachment(f"attachment-{number}.{kind.extension}", kind.mime, cleaned)


def _quiet_libraries() -> None:
    # Pillow's EXIF reader logs every tag's value at DEBUG (the GPS position, the camera
    # owner's name): whatever the process's logging set-up, those loggers stay at WARNING (P1).
    for name in ("PIL", "pypdf"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _looks_like_image(content: bytes) -> bool:
    return content.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    )


def clean_image(content: bytes) -> tuple[_Kind, bytes]:
    """Re-encode from pixels only: no EXIF, GPS, XMP, ICC or text chunks survive."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                raise AttachmentRefused(Refusal.TYPE)
            if image.width * image.height > MAX_PIXELS:
                raise AttachmentRefused(Refusal.TOO_BIG)
            # Turn the pixels the way the camera meant, since the orientation tag goes too.
            upright = ImageOps.exif_transpose(image)
            is_jpeg = image.format == "JPEG"
            mode = "RGB" if is_jpeg else ("RGBA" if "A" in upright.getbands() else "RGB")
            pixels = upright.convert(mode)
            # A new image from raw pixels carries no `info` at all, so nothing can leak through.
            bare = Image.frombytes(mode, pixels.size, pixels.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc
    out = io.BytesIO()
    if is_jpeg:
        bare.save(out, "JPEG", quality=90)
        return JPEG, out.getvalue()
    bare.save(out, "PNG", optimize=True)
    return PNG, out.getvalue()


def clean_pdf(content: bytes) -> bytes:
    """Pages only, into a new document: no /Info, no XMP, no per-page metadata or authors."""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise AttachmentRefused(Refusal.ENCRYPTED)
        writer = PdfWriter()
        for page in reader.pages:
            added = writer.add_page(page)
            for key in ("/Metadata", "/PieceInfo"):
                added.pop(NameObject(key), None)
            for annotation in added.get("/Annots", None) or []:
                annotation = annotation.get_object()
                # A comment's /T is its author's name; /M when it was made.
                for key in ("/T", "/M"):
                    annotation.pop(NameObject(key), None)
        # Without this pypdf writes its own /Producer; the document says nothing about itself.
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
    except AttachmentRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc
    return out.getvalue()


# Core and app properties are replaced by empty ones; custom properties by an empty set.
_EMPTY_PARTS = {
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'
    ),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'
    ),
}
# Parts that name people: comments and their authors, tracked changes, co-authoring records.
_AUTHOR_PARTS = re.compile(
    r"(comments|commentsExtended|commentsIds|people|persons?|threadedComments|commentAuthors)"
    r"[^/]*\.xml$",
    re.IGNORECASE,
)
_AUTHOR_ATTRIBUTE = re.compile(rb"\b(w:author|w15:author|authorId|w:initials)=")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def clean_office(content: bytes) -> tuple[_Kind, bytes]:
    """docx/xlsx/pptx: document properties emptied, embedded photos cleaned, zip rebuilt.

    Comments and tracked changes carry their authors' names inside the body; rather than edit
    the document's text we refuse such files and ask for a copy without them.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
        if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNZIPPED:
            raise AttachmentRefused(Refusal.TOO_BIG)
        names = {i.filename for i in infos}
        kind = next((k for part, k in _OFFICE.items() if part in names), None)
        if kind is None or "[Content_Types].xml" not in names:
            raise AttachmentRefused(Refusal.TYPE)
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise AttachmentRefused(Refusal.MACROS)
        if any(_AUTHOR_PARTS.search(n) for n in names):
            raise AttachmentRefused(Refusal.AUTHORS)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
            for info in infos:
                data = _EMPTY_PARTS.get(info.filename) or archive.read(info)
                if info.filename.endswith(".xml") and _AUTHOR_ATTRIBUTE.search(data):
                    raise AttachmentRefused(Refusal.AUTHORS)
                if "/media/" in info.filename and _looks_like_image(data):
                    data = _clean_embedded_image(data)
                # Entry times are when the author saved; a fixed date says nothing.
                entry = zipfile.ZipInfo(info.filename, _FIXED_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                rebuilt.writestr(entry, data)
    except AttachmentRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc
    return kind, out.getvalue()


def _clean_embedded_image(data: bytes) -> bytes:
    """An image inside an Office file, re-encoded in its own format (the part name stays)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
        if fmt not in ("JPEG", "PNG"):
            return data
        return clean_image(data)[1]
    except (UnidentifiedImageError, OSError, AttachmentRefused):
        return data
