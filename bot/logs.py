"""Logging set-up. Nothing we log carries an update, a message or a user (P1)."""

from __future__ import annotations

import logging
from typing import TextIO

from cases.cleaning_logs import FileLibraryFilter, quiet_file_libraries


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """The process's log handlers (on stderr unless `stream` is given) and logger levels."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=stream,
        force=True,
    )
    # Whatever level an operator's set-up gives PIL's or pypdf's child loggers, what those
    # libraries read from a reporter's file below WARNING never reaches our handlers.
    for handler in logging.getLogger().handlers:
        handler.addFilter(FileLibraryFilter())
    # aiogram's per-update lines carry update ids only, but they add nothing for operators.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Access logs would record which officer opened which case URL; the audit log does that.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO; the bot token is part of Bot API URLs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Pillow logs EXIF tag values (GPS position, camera owner) at DEBUG while reading photos.
    quiet_file_libraries()
