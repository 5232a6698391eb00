"""Office files (docx, xlsx, pptx): the zip rebuilt from cleaned parts, or a refusal.

No maintained library strips all of their metadata, so the package is rebuilt part by part
with the standard library. Besides the document properties, Office keeps the author's
traces in places few people look: the folder a workbook was last saved in (`absPath`), the
template a document was made from (a path under the user's profile), links to local files,
revision-session ids that tie a document to the same author's other documents, document
variables, SharePoint properties in `customXml`, a thumbnail of the first page, and whole
files embedded as objects, each with properties of its own.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from urllib.parse import unquote

from cases.cleaning_images import clean_image_as_is, looks_like_image
from cases.cleaning_refusals import AttachmentRefused, Kind, Refusal

# Office files are zips: refuse ones that expand beyond this, or have absurdly many parts.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_PARTS = 5000

_OFFICE = {
    "word/document.xml": Kind(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "xl/workbook.xml": Kind(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "ppt/presentation.xml": Kind(
        "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
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
# Code: macros and ActiveX controls.
_ACTIVE_PARTS = re.compile(r"(vbaProject\.bin$|/activeX/)", re.IGNORECASE)
# Parts left out: SharePoint and other custom XML properties, the first page's thumbnail,
# the printer set-up (a Windows DEVMODE naming the printer, often a person's or a room's).
_DROPPED_PARTS = re.compile(
    r"^(customXml/|docProps/thumbnail\.|[^/]+/printerSettings/)", re.IGNORECASE
)
# A sheet's page set-up refers to its printer settings part; the reference goes with it.
_PRINTER_REFERENCE = re.compile(rb'(<(?:[\w.-]+:)?pageSetup\b[^>]*?)\s[\w.-]+:id="[^"]*"')
_EMBEDDING = re.compile(r"/embeddings/", re.IGNORECASE)
_CHART_RELS = re.compile(r"/charts/_rels/", re.IGNORECASE)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_WEB = (b"http://", b"https://", b"mailto:")
_NOWHERE = b"about:blank"

# A workbook's last folder: `<x15ac:absPath url="C:\Users\<name>\Desktop\"/>`, inside an
# `mc:AlternateContent` that is removed too once it is left empty.
_ABS_PATH = (
    re.compile(rb"<(?:[\w.-]+:)?absPath\b[^>]*/>"),
    re.compile(rb"<((?:[\w.-]+:)?)absPath\b[^>]*>.*?</\1absPath>", re.DOTALL),
    re.compile(
        rb"<([\w.-]+):AlternateContent\b[^>]*>\s*<\1:Choice\b[^>]*>\s*</\1:Choice>\s*"
        rb"</\1:AlternateContent>"
    ),
)
# Word: the template path (its relationship goes too), revision-session ids (the same ids
# recur in every document an author's Word session touched) and document variables.
_WORD_TRACES = (
    re.compile(rb"<(?:[\w.-]+:)?attachedTemplate\b[^>]*/>"),
    re.compile(rb"<([\w.-]+):rsids\b[^>]*>.*?</\1:rsids>", re.DOTALL),
    re.compile(rb"<([\w.-]+):docVars\b[^>]*>.*?</\1:docVars>", re.DOTALL),
    re.compile(rb'\s[\w.-]+:rsid\w*="[0-9A-Fa-f]{8}"'),
)
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*?(?:/>|>.*?</Relationship>)", re.DOTALL)
_OVERRIDE = re.compile(rb"<Override\b[^>]*?(?:/>|>.*?</Override>)", re.DOTALL)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def clean_office(content: bytes, *, nested: bool = False) -> tuple[Kind, bytes]:
    """docx/xlsx/pptx: properties emptied, traces removed, photos cleaned, zip rebuilt.

    Comments and tracked changes carry their authors' names inside the body; rather than edit
    the document's text we refuse such files and ask for a copy without them. Embedded files
    are refused too, except the workbook behind a chart, which is cleaned the same way.
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
        if any(_ACTIVE_PARTS.search(n) for n in names):
            raise AttachmentRefused(Refusal.MACROS)
        if any(_AUTHOR_PARTS.search(n) for n in names):
            raise AttachmentRefused(Refusal.AUTHORS)
        dropped = {n.lower() for n in names if _DROPPED_PARTS.search(n)}
        chart_data = _chart_workbooks(archive, names)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
            for info in infos:
                if info.filename.lower() in dropped:
                    continue
                data = _clean_part(info.filename, archive.read(info), dropped, chart_data, nested)
                # Entry times are when the author saved; a fixed date says nothing.
                entry = zipfile.ZipInfo(info.filename, _FIXED_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                rebuilt.writestr(entry, data)
    except AttachmentRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc
    return kind, out.getvalue()


def _clean_part(
    name: str, data: bytes, dropped: set[str], chart_data: set[str], nested: bool
) -> bytes:
    data = _EMPTY_PARTS.get(name) or data
    lowered = name.lower()
    if lowered.endswith(".xml") and _AUTHOR_ATTRIBUTE.search(data):
        raise AttachmentRefused(Refusal.AUTHORS)
    if _EMBEDDING.search(name):
        return _clean_embedded(lowered, data, chart_data, nested)
    if lowered.endswith(".rels"):
        return _clean_relationships(name, data, dropped)
    if name == "[Content_Types].xml":
        return _OVERRIDE.sub(lambda m: b"" if _overrides_dropped(m[0], dropped) else m[0], data)
    if lowered == "xl/workbook.xml":
        for pattern in _ABS_PATH:
            data = pattern.sub(b"", data)
    elif lowered.startswith(("xl/worksheets/", "xl/chartsheets/")):
        data = _PRINTER_REFERENCE.sub(rb"\1", data)
    elif lowered.startswith("word/") and lowered.endswith(".xml"):
        for pattern in _WORD_TRACES:
            data = pattern.sub(b"", data)
    if looks_like_image(data):
        # Photos pasted into the document keep the camera's EXIF; drawings (EMF, WMF) have
        # no such block and are kept as they are.
        return clean_image_as_is(data)
    return data


def _clean_embedded(name: str, data: bytes, chart_data: set[str], nested: bool) -> bytes:
    """A chart's own workbook, cleaned like any xlsx; any other embedded file is refused."""
    if nested or name not in chart_data or not data.startswith(b"PK\x03\x04"):
        raise AttachmentRefused(Refusal.EMBEDDED)
    try:
        return clean_office(data, nested=True)[1]
    except AttachmentRefused as refused:
        if refused.reason in (Refusal.TYPE, Refusal.DAMAGED):
            raise AttachmentRefused(Refusal.EMBEDDED) from refused
        raise


def _attributes(element: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTRIBUTE.finditer(element)}


def _source_folder(rels_name: str) -> str:
    """`word/_rels/document.xml.rels` → `word`: where relative targets start from."""
    return posixpath.dirname(posixpath.dirname(rels_name))


def _target_part(rels_name: str, target: bytes) -> str:
    path = unquote(target.decode("utf-8", "replace"))
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/")).lower()
    return posixpath.normpath(posixpath.join(_source_folder(rels_name), path)).lower()


def _chart_workbooks(archive: zipfile.ZipFile, names: set[str]) -> set[str]:
    """The embedded parts charts take their data from."""
    found = set()
    for name in names:
        if _CHART_RELS.search(name) and name.endswith(".rels"):
            for element in _RELATIONSHIP.findall(archive.read(name)):
                attributes = _attributes(element)
                if attributes.get(b"TargetMode") != b"External" and b"Target" in attributes:
                    found.add(_target_part(name, attributes[b"Target"]))
    return found


def _clean_relationships(name: str, data: bytes, dropped: set[str]) -> bytes:
    """Links to dropped parts and to the template go; links to local files go nowhere."""

    def clean(match: re.Match[bytes]) -> bytes:
        element = match[0]
        attributes = _attributes(element)
        target = attributes.get(b"Target", b"")
        if attributes.get(b"TargetMode") != b"External":
            return b"" if _target_part(name, target) in dropped else element
        if attributes.get(b"Type", b"").endswith(b"/attachedTemplate"):
            return b""
        if target.lower().startswith(_WEB):
            return element  # a web link the author put in the text: content, not a trace
        # A linked picture, object or workbook on the author's disk or network share: the
        # path names them; the link stays (so the part still opens) but leads nowhere.
        return element.replace(b'"' + target + b'"', b'"' + _NOWHERE + b'"').replace(
            b"'" + target + b"'", b"'" + _NOWHERE + b"'"
        )

    return _RELATIONSHIP.sub(clean, data)


def _overrides_dropped(element: bytes, dropped: set[str]) -> bool:
    part = _attributes(element).get(b"PartName", b"")
    return unquote(part.decode("utf-8", "replace")).lstrip("/").lower() in dropped
