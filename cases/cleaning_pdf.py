"""PDFs: the pages, and only what they need to be shown, copied into a new document.

A PDF hides a lot besides its `/Info` and XMP: photos placed on a page keep the camera's EXIF
(owner, GPS) inside their JPEG streams; attached files carry their own content, the author's
path (`C:\\Users\\<name>\\...`) and dates; any object may hold its own `/Metadata` or
`/PieceInfo`; actions point at local files. Everything reachable from the pages is scrubbed,
every JPEG or JPEG 2000 image is rebuilt from its pixels, and the pages are then copied once
more, so objects that were cut loose (an attachment dropped from a page) are not written at all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError, PdfStreamError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from cases.cleaning_images import MAX_PIXELS, bare
from cases.cleaning_refusals import AttachmentRefused, Kind, Refusal

PDF = Kind("pdf", "application/pdf")
# All the images of one document together; beyond this re-encoding takes too long.
MAX_PDF_PIXELS = 4 * MAX_PIXELS

# What an object says about its making rather than what a page shows: XMP, application
# private data, edit dates, thumbnails, links to high-resolution originals (OPI paths),
# associated files, reference XObjects (another file's path), actions run on events and
# actions chained after another.
_DROPPED = (
    "/Metadata",
    "/PieceInfo",
    "/LastModified",
    "/Thumb",
    "/OPI",
    "/AF",
    "/Ref",
    "/AA",
    "/Next",
)
# Annotations that carry a file or media clip of their own.
_FILE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
# A comment's /T is its author's name; /M and /CreationDate when it was made.
_ANNOTATION_PRIVATE = ("/T", "/M", "/CreationDate")
_WEB = ("http://", "https://", "mailto:")
# Images whose encoding is a file format of its own, with room for EXIF, XMP or XML boxes.
_CONTAINER_FILTERS = {"/DCTDecode", "/JPXDecode"}
# An inline image (BI … ID) in JPEG or JPEG 2000 form: it cannot be rebuilt in place.
_INLINE_CONTAINER = re.compile(
    rb"\bBI\b(?:(?!\bID\b).){0,4096}?/(?:DCT|DCTDecode|JPX|JPXDecode)\b", re.DOTALL
)


def clean_pdf(content: bytes) -> bytes:
    """The pages in a new document, without anything that says who made it or where."""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise AttachmentRefused(Refusal.ENCRYPTED)
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        _Scrubber().scrub(writer.root_object)
        # Copy the scrubbed pages once more: what was cut loose above is not written.
        final = PdfWriter()
        for page in PdfReader(io.BytesIO(_written(writer))).pages:
            final.add_page(page)
        return _written(final)
    except AttachmentRefused:
        raise
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc


def _written(writer: PdfWriter) -> bytes:
    # Without this pypdf writes its own /Producer; the document says nothing about itself.
    writer.metadata = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _resolved(value: PdfObject) -> PdfObject:
    return value.get_object() if isinstance(value, IndirectObject) else value  # type: ignore[return-value]


def _is_annotation(value: PdfObject) -> bool:
    return isinstance(value, DictionaryObject) and "/Rect" in value and "/Subtype" in value


def _is_cut(value: PdfObject) -> bool:
    """Another file (a file specification or an embedded file), or an annotation carrying one:
    dropped wherever it is referred to (a page's /Annots, a popup's /Parent, an action)."""
    value = _resolved(value)
    if not isinstance(value, DictionaryObject):
        return False
    if _is_annotation(value):
        return value.get("/Subtype") in _FILE_ANNOTATIONS
    return value.get("/Type") in ("/Filespec", "/EmbeddedFile") or "/EF" in value


def _is_unsafe_action(value: PdfObject) -> bool:
    """An action other than going to a page, a viewer command or a web link: launching or
    opening another file (by its local path), importing, submitting, running a script."""
    action = _resolved(value)
    if not isinstance(action, DictionaryObject) or "/S" not in action:
        return False
    kind = action.get("/S")
    if kind == "/URI":
        return not str(action.get("/URI", "")).lower().startswith(_WEB)
    return kind not in ("/GoTo", "/Named")


class _Scrubber:
    """One pass over every object reachable from the document's catalog."""

    def __init__(self) -> None:
        self.pixels = 0

    def scrub(self, root: PdfObject) -> None:
        for node in _reachable(root):
            self._scrub(node)

    def _scrub(self, node: DictionaryObject) -> None:
        for key in _DROPPED:
            node.pop(NameObject(key), None)
        if node.get("/Type") == "/Page":
            node.pop(NameObject("/B"), None)  # article beads lead to threads with /Author
            _check_content(node.get("/Contents"))
        if _is_annotation(node):
            for key in _ANNOTATION_PRIVATE:
                node.pop(NameObject(key), None)
        for key, value in list(node.items()):
            if _is_cut(value) or (key == "/A" and _is_unsafe_action(value)):
                del node[key]
            elif isinstance(value, ArrayObject):
                value[:] = [v for v in value if not _is_cut(v)]
        annotations = _resolved(node.get("/Annots", ArrayObject()))
        if isinstance(annotations, ArrayObject):  # may be indirect: not filtered above
            annotations[:] = [a for a in annotations if not _is_cut(a)]
        if isinstance(node, StreamObject):
            if node.get("/Subtype") == "/Image":
                self._rebuild_image(node)
            elif node.get("/Subtype") == "/Form" or node.get("/PatternType") == 1:
                _check_content(node)
        procedures = _resolved(node.get("/CharProcs", DictionaryObject()))
        if isinstance(procedures, DictionaryObject):  # a Type 3 font's glyphs
            for procedure in procedures.values():
                _check_content(procedure)

    def _rebuild_image(self, stream: StreamObject) -> None:
        """A JPEG or JPEG 2000 image XObject re-encoded as a JPEG of its pixels alone."""
        filters = _resolved(stream.get("/Filter", ArrayObject()))
        names = set(filters) if isinstance(filters, ArrayObject) else {filters}
        if not names & _CONTAINER_FILTERS:
            return  # plain samples (Flate, LZW, CCITT, JBIG2…): no place for metadata
        try:
            # Every filter before the last is undone; the last leaves the image file itself.
            with Image.open(io.BytesIO(stream.get_data())) as image:
                self.pixels += image.width * image.height
                if image.width * image.height > MAX_PIXELS or self.pixels > MAX_PDF_PIXELS:
                    raise AttachmentRefused(Refusal.TOO_BIG)
                if image.format not in ("JPEG", "JPEG2000"):
                    raise AttachmentRefused(Refusal.DAMAGED)
                # The same channels as before keep the image's colour space and /Decode valid.
                same = image.format == "JPEG" and image.mode in ("L", "RGB", "CMYK")
                mode = image.mode if same else ("L" if image.mode in ("1", "L", "LA") else "RGB")
                # Not turned upright: a PDF places the samples as stored and ignores EXIF.
                rebuilt = bare(image, mode)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise AttachmentRefused(Refusal.DAMAGED) from exc
        out = io.BytesIO()
        rebuilt.save(out, "JPEG", quality=90)
        # pypdf only re-encodes Flate streams itself; this data is already in its final form.
        StreamObject.set_data(stream, out.getvalue())
        if isinstance(stream, EncodedStreamObject):
            stream.decoded_self = None
        stream[NameObject("/Filter")] = NameObject("/DCTDecode")
        stream[NameObject("/BitsPerComponent")] = NumberObject(8)
        stream.pop(NameObject("/DecodeParms"), None)
        if not same:  # JPEG 2000 or an unusual mode: a device colour space for what we wrote
            device = "/DeviceGray" if mode == "L" else "/DeviceRGB"
            stream[NameObject("/ColorSpace")] = NameObject(device)
            for key in ("/Decode", "/SMaskInData"):
                stream.pop(NameObject(key), None)


def _check_content(value: PdfObject | None) -> None:
    """Refuse a page or form that paints a JPEG inline (its bytes could hold EXIF)."""
    value = _resolved(value) if value is not None else None
    streams = value if isinstance(value, ArrayObject) else [value]
    for stream in streams:
        stream = _resolved(stream) if stream is not None else None
        if isinstance(stream, StreamObject) and _INLINE_CONTAINER.search(stream.get_data()):
            raise AttachmentRefused(Refusal.DAMAGED)


def _reachable(root: PdfObject) -> Iterator[DictionaryObject]:
    """Every dictionary (and stream) reachable from `root`, each once."""
    seen: set[int] = set()
    pending: list[PdfObject] = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                continue
            seen.add(node.idnum)
            node = node.get_object()  # type: ignore[assignment]
        if isinstance(node, DictionaryObject):
            yield node
            # Scrubbing may have removed entries: follow what is left afterwards.
            pending.extend(node.values())
        elif isinstance(node, ArrayObject):
            pending.extend(node)
