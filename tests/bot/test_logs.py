"""The product's log handlers drop what the file libraries read from a reporter's file (P1)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from PIL import ExifTags, Image

from bot.logs import configure_logging

NAME = "Wang Xiaoming"
LIBRARY_LOGGERS = ("PIL", "PIL.Image", "PIL.TiffImagePlugin", "PIL.JpegImagePlugin", "pypdf")


def photo_with_owner() -> bytes:
    image = Image.new("RGB", (16, 16), (10, 200, 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = NAME
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 5.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def product_log() -> Iterator[io.StringIO]:
    """The product's logging set-up at DEBUG, writing to a buffer; the previous one restored."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved = [(logger.level, list(logger.filters)) for logger in loggers]
    stream = io.StringIO()
    # `force` closes the handlers it replaces: hand it none of the test runner's.
    root.handlers.clear()
    configure_logging("DEBUG", stream=stream)
    yield stream
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for logger, (level, filters) in zip(loggers, saved, strict=True):
        logger.setLevel(level)
        logger.filters[:] = filters


def test_library_chatter_never_reaches_the_handlers_whatever_the_loggers_level(
    product_log: io.StringIO,
) -> None:
    """Given an operator's set-up that turns PIL's child loggers to DEBUG after ours (and
    drops what we put on them), when Pillow reads a photo's EXIF, then the product's
    handlers write nothing of it; the libraries' warnings and other DEBUG lines still pass."""
    photo = photo_with_owner()
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).filters.clear()
    with Image.open(io.BytesIO(photo)) as image:
        exif = image.getexif()
        assert exif[ExifTags.Base.Artist] == NAME
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)
    logging.getLogger("PIL.TiffImagePlugin").debug("tag: Artist - value: %s", NAME)
    logging.getLogger("PIL.TiffImagePlugin").warning("a damaged photo")
    logging.getLogger("speakup.test").debug("an operator's own DEBUG line")
    written = product_log.getvalue()
    assert NAME not in written
    assert "Artist" not in written
    assert "WARNING PIL.TiffImagePlugin: a damaged photo" in written
    assert "DEBUG speakup.test: an operator's own DEBUG line" in written
