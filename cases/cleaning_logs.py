"""Keeping the file libraries from logging what they read from a reporter's file (P1).

Pillow logs every EXIF tag's value at DEBUG while it reads a photo (the camera owner's name,
the GPS position), from `PIL.TiffImagePlugin`; pypdf logs what it finds in a PDF. Raising
the `PIL` logger is not enough: a child logger set to DEBUG by an operator's logging set-up
logs regardless of its parent's level. So every logger of these libraries is held at
WARNING and given a filter, and the product's handlers carry the same filter
(`bot.logs`), which drops such records whatever their logger's level.
"""

from __future__ import annotations

import logging

FILE_LIBRARIES = ("PIL", "pypdf")


def from_file_library(name: str) -> bool:
    """True for the file libraries' loggers: `PIL`, `PIL.TiffImagePlugin`, `pypdf._reader`…"""
    return any(name == library or name.startswith(library + ".") for library in FILE_LIBRARIES)


class FileLibraryFilter(logging.Filter):
    """Drops records of the file libraries below WARNING; their warnings and errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not from_file_library(record.name)


def quiet_file_libraries() -> None:
    """Every file-library logger that exists, parent or child, at WARNING with the filter."""
    names = [*FILE_LIBRARIES, *(n for n in list(logging.Logger.manager.loggerDict) if n)]
    for name in names:
        if not from_file_library(name):
            continue
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if not any(isinstance(f, FileLibraryFilter) for f in logger.filters):
            logger.addFilter(FileLibraryFilter())
