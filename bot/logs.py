"""Logging set-up. Nothing we log carries an update, a message or a user (P1)."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # aiogram's per-update lines carry update ids only, but they add nothing for operators.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Access logs would record which officer opened which case URL; the audit log does that.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO; the bot token is part of Bot API URLs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Pillow logs EXIF tag values (GPS position, camera owner) at DEBUG while reading photos.
    quiet_file_libraries()


def quiet_file_libraries() -> None:
    """Keep the file-cleaning libraries from logging what they read from a reporter's file."""
    for name in ("PIL", "pypdf"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
