"""What an Office package says about its own parts: which hold the document properties and
which name people, read from its relationships and content types as well as from part names.

Office does not find the core properties at `docProps/core.xml`: it follows the relationship
in `_rels/.rels` whose type says "core properties", wherever it leads, and compares part
names without regard to case. A check written for the usual path alone lets `meta/core.xml`
or `docProps/Core.xml` through with the author's name in it, so every signal counts: the
relationship type, the declared content type, the usual name, and the part's root element.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
)
_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"/>'
)
_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties"/>'
)
# Each kind of property part by its usual name, and by what ends its relationship type or
# content type once lowered and without hyphens (transitional, strict and the first edition
# spell them differently: `extended-properties`, `extendedProperties`).
_PROPERTY_SETS = (
    ("docprops/core.xml", "coreproperties", _CORE),
    ("docprops/app.xml", "extendedproperties", _APP),
    ("docprops/custom.xml", "customproperties", _CUSTOM),
)
# The root element of a property part, for one that no relationship or content type declares.
_ROOT = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*"
    rb"<(?:[\w.-]+:)?(coreProperties|Properties)\b([^>]*)>",
    re.DOTALL,
)
_EXTENDED_NS = b"/extended-properties"
_CUSTOM_NS = b"/custom-properties"

# Parts that name people: comments and their authors (PowerPoint's `authors.xml` lists them
# even after the comments are gone), Word's people, Excel's persons, and a shared workbook's
# change history and the user names of everyone who edited it (`xl/revisions/`).
_AUTHOR_WORDS = r"(comment|people|person|authors|usernames|revisionheaders|revisionlog)"
_AUTHOR_NAME = re.compile(_AUTHOR_WORDS + r"[^/]*\.xml$", re.IGNORECASE)
# A relationship type's or content type's last segment (`…/threadedComment`, `…comments+xml`).
_AUTHOR_LABEL = re.compile(_AUTHOR_WORDS + r"[^/]*$", re.IGNORECASE)

# A `.rels` part's `<Relationship>` elements.
RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*?(?:/>|>.*?</Relationship>)", re.DOTALL)
_OVERRIDE = re.compile(rb"<Override\b[^>]*?(?:/>|>.*?</Override>)", re.DOTALL)
_DEFAULT = re.compile(rb"<Default\b[^>]*?(?:/>|>.*?</Default>)", re.DOTALL)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def attributes(element: bytes) -> dict[bytes, bytes]:
    """An XML start tag's attributes, by their names as written."""
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTRIBUTE.finditer(element)}


def target_part(rels_name: str, target: bytes) -> str:
    """The part a relationship leads to, lowered (part names are not case-sensitive)."""
    path = unquote(target.decode("utf-8", "replace")).split("#", 1)[0]
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/")).lower()
    # `word/_rels/document.xml.rels` → relative targets start from `word`.
    folder = posixpath.dirname(posixpath.dirname(rels_name))
    return posixpath.normpath(posixpath.join(folder, path)).lower()


@dataclass(frozen=True)
class PartRoles:
    """What the package declares about its parts (names lowered)."""

    properties: dict[str, bytes]
    author_parts: frozenset[str]

    def empty_properties(self, name: str, data: bytes) -> bytes | None:
        """The empty property set that replaces `name`, or None when it holds no properties."""
        found = self.properties.get(name.lower())
        return found if found is not None else _by_root(data)


def read_roles(archive: zipfile.ZipFile) -> PartRoles:
    """Property and people parts by relationship type, content type and name."""
    declared: dict[str, list[str]] = {}
    for info in archive.infolist():
        name = info.filename
        if name.lower().endswith(".rels"):
            for element in RELATIONSHIP.findall(archive.read(info)):
                found = attributes(element)
                if found.get(b"TargetMode") != b"External" and b"Target" in found:
                    kind = found.get(b"Type", b"").decode("utf-8", "replace")
                    declared.setdefault(target_part(name, found[b"Target"]), []).append(kind)
    for part, content_type in _content_types(archive).items():
        declared.setdefault(part, []).append(content_type)
    properties: dict[str, bytes] = {}
    authors: set[str] = set()
    for info in archive.infolist():
        part = info.filename.lower()
        labels = declared.get(part, [])
        for usual, suffix, empty in _PROPERTY_SETS:
            if part == usual or any(_plain(label).endswith(suffix) for label in labels):
                properties[part] = empty
        if _AUTHOR_NAME.search(part) or any(_is_author_label(label) for label in labels):
            authors.add(part)
    return PartRoles(properties, frozenset(authors))


def _plain(label: str) -> str:
    """`…/metadata/core-properties` or `…core-properties+xml` → `…/metadata/coreproperties`."""
    return label.lower().removesuffix("+xml").replace("-", "")


def _is_author_label(label: str) -> bool:
    return bool(_AUTHOR_LABEL.search(label.rsplit("/", 1)[-1]))


def _content_types(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each part's declared content type: its override, else its extension's default."""
    names = {info.filename.lower() for info in archive.infolist()}
    try:
        data = archive.read("[Content_Types].xml")
    except KeyError:
        return {}
    defaults = {}
    for element in _DEFAULT.findall(data):
        found = attributes(element)
        extension = found.get(b"Extension", b"").decode("utf-8", "replace").lower()
        defaults[extension] = found.get(b"ContentType", b"").decode("utf-8", "replace")
    declared = {}
    for name in names:
        extension = name.rsplit(".", 1)[-1]
        if extension in defaults:
            declared[name] = defaults[extension]
    for element in _OVERRIDE.findall(data):
        found = attributes(element)
        part = unquote(found.get(b"PartName", b"").decode("utf-8", "replace"))
        declared[part.lstrip("/").lower()] = found.get(b"ContentType", b"").decode(
            "utf-8", "replace"
        )
    return declared


def _by_root(data: bytes) -> bytes | None:
    """A property part no declaration names, recognised by its root element."""
    root = _ROOT.match(data, 0, 4096)
    if root is None:
        return None
    if root[1] == b"coreProperties":
        return _CORE
    if _EXTENDED_NS in root[2]:
        return _APP
    if _CUSTOM_NS in root[2]:
        return _CUSTOM
    return None
