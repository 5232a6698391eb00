"""What every file cleaner shares: why a file is refused, and what kind a cleaned file is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Refusal(StrEnum):
    """Why a file was not added; each has a message in both catalogs (`file.refused.<code>`)."""

    TOO_BIG = "too_big"
    TOO_MANY = "too_many"
    TYPE = "type"
    DAMAGED = "damaged"
    ENCRYPTED = "encrypted"
    MACROS = "macros"
    AUTHORS = "authors"
    EMBEDDED = "embedded"


class AttachmentRefused(Exception):
    """The file is not added to the report; `reason` says why, in words the reporter gets."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Kind:
    """A cleaned file's extension (for its neutral name) and MIME type."""

    extension: str
    mime: str
