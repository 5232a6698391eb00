"""Cleaning a reporter's file before it is sealed: metadata out, a neutral name, or a refusal.

Files say more than their content: a phone photo carries the GPS position and the camera's
serial number in EXIF, a PDF its author, its attached files and the photos placed in it with
their own EXIF, an Office file the account name and folders that created and last saved it.
Each accepted kind is rebuilt from its content only (`cleaning_images`, `cleaning_pdf`,
`cleaning_office`); everything else is refused, because a file we cannot clean is a file that
may name the reporter (P9). The kind is read from the bytes, never from the name the
reporter's phone gave.
"""

from __future__ import annotations

from cases.cleaning_images import clean_image, looks_like_image
from cases.cleaning_logs import quiet_file_libraries
from cases.cleaning_office import clean_office
from cases.cleaning_pdf import PDF, clean_pdf
from cases.cleaning_refusals import AttachmentRefused, Refusal
from cases.intake import Attachment

__all__ = ["TELEGRAM_DOWNLOAD_LIMIT", "AttachmentRefused", "Refusal", "clean"]

# Telegram lets bots download files up to 20 MB; no setting can raise that.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


def clean(content: bytes, number: int, *, max_bytes: int = TELEGRAM_DOWNLOAD_LIMIT) -> Attachment:
    """The cleaned file, renamed `attachment-<number>.<ext>`; or `AttachmentRefused`."""
    # Pillow logs EXIF values (GPS position, camera owner) at DEBUG while reading a photo.
    quiet_file_libraries()
    if len(content) > min(max_bytes, TELEGRAM_DOWNLOAD_LIMIT):
        raise AttachmentRefused(Refusal.TOO_BIG)
    if content.startswith(b"%PDF-"):
        kind, cleaned = PDF, clean_pdf(content)
    elif content.startswith(b"PK\x03\x04"):
        kind, cleaned = clean_office(content)
    elif looks_like_image(content):
        kind, cleaned = clean_image(content)
    else:
        raise AttachmentRefused(Refusal.TYPE)
    return Attachment(f"attachment-{number}.{kind.extension}", kind.mime, cleaned)
