"""Attachments as sealed case items: one sealed blob holds a small header and the file.

The header (file name, MIME type) is inside the seal, so the database shows neither what kind
of file a reporter sent nor its name — only that a case has an attachment and its sealed size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from storage.crypto.primitives import Binding, open_sealed, seal

ATTACHMENT_KIND = "attachment"


@dataclass(frozen=True)
class OpenedAttachment:
    filename: str
    mime: str
    content: bytes


class _HasFile(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def mime(self) -> str: ...
    @property
    def content(self) -> bytes: ...


def seal_attachment(case_public: bytes, case_id: str, item_id: str, attachment: _HasFile) -> bytes:
    """Seal header + content to the case key, bound to (case, attachment, item) (P7)."""
    header = json.dumps({"name": attachment.filename, "mime": attachment.mime}).encode()
    blob = len(header).to_bytes(4, "big") + header + attachment.content
    return seal(case_public, blob, Binding(case_id, ATTACHMENT_KIND, item_id))


def open_attachment(
    case_private: bytes, case_id: str, item_id: str, sealed: bytes
) -> OpenedAttachment:
    """Open an attachment sealed with `seal_attachment`."""
    blob = open_sealed(case_private, sealed, Binding(case_id, ATTACHMENT_KIND, item_id))
    size = int.from_bytes(blob[:4], "big")
    header = json.loads(blob[4 : 4 + size])
    return OpenedAttachment(str(header["name"]), str(header["mime"]), blob[4 + size :])


def describe(attachment: OpenedAttachment) -> str:
    """How an attachment appears in a case's item list."""
    return f"{attachment.filename} ({attachment.mime}, {len(attachment.content)} bytes)"
