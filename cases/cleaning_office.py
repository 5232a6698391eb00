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
import itertools
import re
import zipfile
from urllib.parse import unquote

from cases.cleaning_images import clean_image_as_is, looks_like_image
from cases.cleaning_package import RELATIONSHIP, PartRoles, attributes, read_roles, target_part
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
# Attributes that hold a person's name or stand for one; `userName` is what a shared
# workbook's history and a protected workbook's `fileSharing` name their users with.
_AUTHOR_ATTRIBUTE = re.compile(rb"\b(w:author|w15:author|authorId|w:initials|userName)=")
# Code: macros and ActiveX controls.
_ACTIVE_PARTS = re.compile(r"(vbaProject\.bin$|/activeX/)", re.IGNORECASE)
# Parts left out: SharePoint and other custom XML properties, the first page's thumbnail,
# the printer set-up (a Windows DEVMODE naming the printer, often a person's or a room's),
# PowerPoint's revision list (the ids of the Office installations that saved the file).
_DROPPED_PARTS = re.compile(
    r"^(customXml/|docProps/thumbnail\.|[^/]+/printerSettings/|[^/]+/revisionInfo\.xml$)",
    re.IGNORECASE,
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
# A start tag whose attribute values may hold `>`.
_TAG_BODY = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
# "Read-only recommended" and "password to modify" keep the name of whoever set them
# (`<fileSharing userName="…">`) and a hash of that password: the element goes, and with it
# the recommendation, which the officer's copy does not need.
_FILE_SHARING = re.compile(
    rb"<((?:[\w.-]+:)?)fileSharing\b" + _TAG_BODY + rb"(?:/>|>.*?</\1fileSharing>)", re.DOTALL
)
# A shared workbook gives each user a view named "<user name> - Personal View".
_PERSONAL_VIEW = re.compile(rb"<(?:[\w.-]+:)?customWorkbookView\b" + _TAG_BODY + rb"/?>")
_NAME_VALUE = re.compile(rb"""(\sname\s*=\s*)(?:"[^"]*"|'[^']*')""")
# Word: the template path (its relationship goes too), revision-session ids (the same ids
# recur in every document an author's Word session touched) and document variables.
_WORD_TRACES = (
    re.compile(rb"<(?:[\w.-]+:)?attachedTemplate\b[^>]*/>"),
    re.compile(rb"<([\w.-]+):rsids\b[^>]*>.*?</\1:rsids>", re.DOTALL),
    re.compile(rb"<([\w.-]+):docVars\b[^>]*>.*?</\1:docVars>", re.DOTALL),
    re.compile(rb'\s[\w.-]+:rsid\w*="[0-9A-Fa-f]{8}"'),
)
_OVERRIDE = re.compile(rb"<Override\b[^>]*?(?:/>|>.*?</Override>)", re.DOTALL)


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
        roles = read_roles(archive)
        if roles.author_parts:
            raise AttachmentRefused(Refusal.AUTHORS)
        dropped = {n.lower() for n in names if _DROPPED_PARTS.search(n)}
        chart_data = _chart_workbooks(archive, names)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
            for info in infos:
                if info.filename.lower() in dropped:
                    continue
                data = archive.read(info)
                data = _clean_part(info.filename, data, roles, dropped, chart_data, nested)
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
    name: str, data: bytes, roles: PartRoles, dropped: set[str], chart_data: set[str], nested: bool
) -> bytes:
    # Core, app and custom properties become empty sets, wherever the package keeps them.
    data = roles.empty_properties(name, data) or data
    lowered = name.lower()
    if _EMBEDDING.search(name):
        return _clean_embedded(lowered, data, chart_data, nested)
    if lowered.endswith(".rels"):
        return _clean_relationships(name, data, dropped)
    if name == "[Content_Types].xml":
        return _OVERRIDE.sub(lambda m: b"" if _overrides_dropped(m[0], dropped) else m[0], data)
    if lowered == "xl/workbook.xml":
        for pattern in (*_ABS_PATH, _FILE_SHARING):
            data = pattern.sub(b"", data)
        data = _neutral_view_names(data)
    elif lowered.startswith(("xl/worksheets/", "xl/chartsheets/")):
        data = _PRINTER_REFERENCE.sub(rb"\1", data)
    elif lowered.startswith("word/") and lowered.endswith(".xml"):
        for pattern in _WORD_TRACES:
            data = pattern.sub(b"", data)
    # Checked after the traces above are gone: what remains is in the document itself.
    if lowered.endswith(".xml") and _AUTHOR_ATTRIBUTE.search(data):
        raise AttachmentRefused(Refusal.AUTHORS)
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


def _neutral_view_names(workbook: bytes) -> bytes:
    """Shared workbooks' personal views keep their settings but not their owners' names."""
    numbers = itertools.count(1)

    def rename(match: re.Match[bytes]) -> bytes:
        element = match[0]
        if attributes(element).get(b"personalView") not in (b"1", b"true"):
            return element
        neutral = b'"Personal View %d"' % next(numbers)
        return _NAME_VALUE.sub(lambda m: m[1] + neutral, element, count=1)

    return _PERSONAL_VIEW.sub(rename, workbook)


def _chart_workbooks(archive: zipfile.ZipFile, names: set[str]) -> set[str]:
    """The embedded parts charts take their data from."""
    found = set()
    for name in names:
        if _CHART_RELS.search(name) and name.endswith(".rels"):
            for element in RELATIONSHIP.findall(archive.read(name)):
                found_at = attributes(element)
                if found_at.get(b"TargetMode") != b"External" and b"Target" in found_at:
                    found.add(target_part(name, found_at[b"Target"]))
    return found


def _clean_relationships(name: str, data: bytes, dropped: set[str]) -> bytes:
    """Links to dropped parts and to the template go; links to local files go nowhere."""

    def clean(match: re.Match[bytes]) -> bytes:
        element = match[0]
        relationship = attributes(element)
        target = relationship.get(b"Target", b"")
        if relationship.get(b"TargetMode") != b"External":
            return b"" if target_part(name, target) in dropped else element
        if relationship.get(b"Type", b"").endswith(b"/attachedTemplate"):
            return b""
        if target.lower().startswith(_WEB):
            return element  # a web link the author put in the text: content, not a trace
        # A linked picture, object or workbook on the author's disk or network share: the
        # path names them; the link stays (so the part still opens) but leads nowhere.
        return element.replace(b'"' + target + b'"', b'"' + _NOWHERE + b'"').replace(
            b"'" + target + b"'", b"'" + _NOWHERE + b"'"
        )

    return RELATIONSHIP.sub(clean, data)


def _overrides_dropped(element: bytes, dropped: set[str]) -> bool:
    part = attributes(element).get(b"PartName", b"")
    return unquote(part.decode("utf-8", "replace")).lstrip("/").lower() in dropped
