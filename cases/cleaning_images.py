"""Photos, wherever they are found (sent as such, inside a PDF, inside an Office file): rebuilt
from their pixels alone, so no EXIF, GPS, XMP, ICC profile or text chunk can survive."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from cases.cleaning_refusals import AttachmentRefused, Kind, Refusal

# A decoded image larger than this is refused (decompression bombs).
MAX_PIXELS = 50_000_000

JPEG = Kind("jpg", "image/jpeg")
PNG = Kind("png", "image/png")


def looks_like_image(content: bytes) -> bool:
    """JPEG, PNG, GIF or WebP, by their first bytes."""
    return content.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    )


def bare(image: Image.Image, mode: str) -> Image.Image:
    """The image's pixels in `mode`, in a new image that has no `info` at all to leak."""
    pixels = image.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def _rebuilt(content: bytes) -> tuple[str, Image.Image]:
    """The image's format and its pixels, upright, in a new image without any metadata."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                raise AttachmentRefused(Refusal.TYPE)
            if image.width * image.height > MAX_PIXELS:
                raise AttachmentRefused(Refusal.TOO_BIG)
            # Turn the pixels the way the camera meant, since the orientation tag goes too.
            upright = ImageOps.exif_transpose(image)
            is_jpeg = image.format == "JPEG"
            mode = "RGB" if is_jpeg else ("RGBA" if "A" in upright.getbands() else "RGB")
            return image.format, bare(upright, mode)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise AttachmentRefused(Refusal.DAMAGED) from exc


def clean_image(content: bytes) -> tuple[Kind, bytes]:
    """Re-encode from pixels only: JPEG stays JPEG, the rest become PNG."""
    fmt, rebuilt = _rebuilt(content)
    out = io.BytesIO()
    if fmt == "JPEG":
        rebuilt.save(out, "JPEG", quality=90)
        return JPEG, out.getvalue()
    rebuilt.save(out, "PNG", optimize=True)
    return PNG, out.getvalue()


def clean_image_as_is(content: bytes) -> bytes:
    """Re-encode from pixels only, in the format it came in (a part whose name and declared
    type must still match, inside an Office file)."""
    fmt, rebuilt = _rebuilt(content)
    out = io.BytesIO()
    rebuilt.save(out, fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    return out.getvalue()
