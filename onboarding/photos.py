"""Survivor photos: safe decoding, metadata stripping and the tiny face thumbnail for the QR.

Why this module is careful (SECURITY.md F, checks 23-24):

* An uploaded file is hostile until proven otherwise. We accept only JPEG, PNG and WebP, decided
  by the magic bytes **and** by Pillow decoding the file with only that one plugin enabled, so a
  polyglot cannot be routed to a weaker decoder.
* Pixel floods (a 30000 x 30000 PNG of a few hundred bytes) are rejected from the *header*
  dimensions, before any pixel buffer is allocated. Pillow's own decompression-bomb check is kept
  as a second layer, with its warning turned into an error.
* A phone photo's EXIF can carry GPS coordinates that point to a shelter. We never copy metadata:
  the pixels are copied into a brand-new image and re-encoded, so EXIF, GPS, XMP, IPTC, ICC
  profiles, JPEG comments and PNG text chunks cannot survive, whatever container they hid in.

Nothing here touches Flask or the database, so the same code serves the upload form, the camera
capture endpoint and the CLI. ``PhotoError.code`` is stable, for translation by the caller;
``PhotoError.message`` is plain English meant for the caseworker.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, features

__all__ = [
    "ALLOWED_FORMATS",
    "PHOTO_MAX_SIDE_OUT",
    "THUMBNAIL_MAX_BYTES",
    "PhotoError",
    "ProcessedPhoto",
    "face_thumbnail",
    "process_upload",
    "sniff_format",
]

#: Formats accepted from the browser (camera captures are JPEG or WebP, uploads any of these).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 10_000
# Smaller than this cannot show a face well enough for a teller to compare with the person.
MIN_SIDE = 100

#: Longest side of the stored photo. Enough for an A6 card at 300 dpi (38 mm -> ~450 px) with
#: room for a screen preview; keeps the encrypted file around 100-300 kB.
PHOTO_MAX_SIDE_OUT = 1200
PHOTO_JPEG_QUALITY = 85

#: The CWT claim ``5`` (face thumbnail) is at most 400 bytes (FORMATS.md): with it the QR stays
#: at version 24-25 at error correction Q.
THUMBNAIL_MAX_BYTES = 400

_MAGIC_PNG = b"\x89PNG\r\n\x1a\n"
_MAGIC_JPEG = b"\xff\xd8\xff"


class PhotoError(ValueError):
    """A photo was refused. ``code`` is stable (for i18n/tests); ``message`` is user-facing."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"PhotoError({self.code!r}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A re-encoded photo with no metadata: always JPEG, longest side <= PHOTO_MAX_SIDE_OUT."""

    image: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def sniff_format(data: bytes) -> str | None:
    """Pillow format name from the magic bytes, or None. Only the three allowed formats."""
    if data.startswith(_MAGIC_JPEG):
        return "JPEG"
    if data.startswith(_MAGIC_PNG):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


_NOT_A_PHOTO = "The file is not a JPEG, PNG or WebP photo."
_UNREADABLE = "The photo could not be read; it may be damaged. Please take or upload it again."


def _too_large_pixels(max_pixels: int, max_side: int) -> PhotoError:
    return PhotoError(
        "too_many_pixels",
        f"The photo is too large: at most {max_pixels // 1_000_000} megapixels and "
        f"{max_side:,} pixels on the longest side.",
    )


def _open_checked(data: bytes, *, max_pixels: int, max_side: int, min_side: int = 1) -> Image.Image:
    """Open and fully decode ``data``, checking the header dimensions before decoding.

    Why the order matters: ``Image.open`` only parses the header; ``load()`` allocates the pixel
    buffer. The dimension check sits between the two, so a pixel flood never gets an allocation.
    """
    fmt = sniff_format(data)
    if fmt is None:
        raise PhotoError("unsupported_type", _NOT_A_PHOTO)
    # Pillow's decompression-bomb check warns (rather than raises) between 1x and 2x its global
    # MAX_IMAGE_PIXELS. We make that warning an error here. The global limit itself is left to the
    # application (it is process-wide); our explicit check below is the guard that matters.
    # Other Pillow warnings concern malformed metadata that we discard anyway, so they are muted.
    # (catch_warnings is process-global before Python 3.14; the worst a race can do is let the
    # warning through as a log line -- the explicit check still rejects the image.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large_pixels(max_pixels, max_side) from None
        except Exception:  # Pillow raises many types on malformed headers
            raise PhotoError("unsupported_type", _NOT_A_PHOTO) from None
        try:
            width, height = img.size
            if width > max_side or height > max_side or width * height > max_pixels:
                raise _too_large_pixels(max_pixels, max_side)
            if width < min_side or height < min_side:
                raise PhotoError(
                    "too_small",
                    f"The photo is too small: at least {min_side} x {min_side} pixels are needed.",
                )
            if fmt == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: we never need more than this, and
                # a 40-megapixel camera JPEG then costs a few MB instead of 120 MB.
                img.draft(img.mode, (PHOTO_MAX_SIDE_OUT, PHOTO_MAX_SIDE_OUT))
            img.load()
        except PhotoError:
            img.close()
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            img.close()
            raise _too_large_pixels(max_pixels, max_side) from None
        except Exception:
            # Truncated or garbled data: OSError, SyntaxError, ValueError, struct.error,
            # EOFError, IndexError ... depending on the plugin. All mean the same thing here.
            img.close()
            raise PhotoError("undecodable", _UNREADABLE) from None
    return img


def _to_clean_rgb(img: Image.Image) -> Image.Image:
    """Apply EXIF orientation, then copy only the pixels into a new RGB image.

    The new image is created with ``Image.new`` and ``paste``: it starts with an empty ``info``
    dict and no EXIF, so nothing from the source container can leak into the output encoder.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # corrupt-EXIF warnings: the metadata is dropped anyway
        try:
            oriented = ImageOps.exif_transpose(img)
        except Exception:
            # A broken orientation tag must not cost the caseworker the photo; keep it as stored.
            oriented = img
        if oriented is None:  # pragma: no cover - only with in_place=True
            oriented = img

        mode = oriented.mode
        if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            # 16-bit / float greyscale PNGs: scale to 8 bits instead of clipping to white.
            oriented = oriented.convert("I").point(lambda v: v * (1 / 256)).convert("L")
            mode = "L"
        if mode == "P" or mode == "PA":
            oriented = oriented.convert("RGBA")
            mode = "RGBA"
        if mode in ("RGBA", "LA", "RGBa", "La"):
            rgba = oriented.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            background.alpha_composite(rgba)
            rgb = background.convert("RGB")
        else:
            rgb = oriented.convert("RGB")

    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def process_upload(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    min_side: int = MIN_SIDE,
) -> ProcessedPhoto:
    """Validate an uploaded or captured photo and return a metadata-free, bounded JPEG.

    Raises ``PhotoError`` (never another exception) for anything that is not a decodable JPEG,
    PNG or WebP within the limits. The web layer should also refuse oversized bodies with 413
    before reading them (SECURITY.md 23); ``max_bytes`` here is the second fence.
    """
    if not data:
        raise PhotoError("empty", "No photo was received.")
    if len(data) > max_bytes:
        raise PhotoError(
            "file_too_large",
            f"The photo is too large: the file must be at most {max_bytes // (1024 * 1024)} MB.",
        )
    img = _open_checked(data, max_pixels=max_pixels, max_side=max_side, min_side=min_side)
    try:
        try:
            clean = _to_clean_rgb(img)
        except Exception:
            raise PhotoError("undecodable", _UNREADABLE) from None
    finally:
        img.close()

    clean.thumbnail((PHOTO_MAX_SIDE_OUT, PHOTO_MAX_SIDE_OUT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, icc_profile=, comment= or dpi= arguments: the encoder writes a bare JFIF header.
    clean.save(out, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return ProcessedPhoto(image=out.getvalue(), width=clean.width, height=clean.height)


# --- face thumbnail ---------------------------------------------------------------------------

# Crop geometry for the thumbnail. No face detector on purpose: a detector is a heavy dependency,
# fails silently on some skin tones, and the capture page frames the face in the centre anyway.
# A head-and-shoulders portrait has the face in the upper-middle, so we take a 3:4 window whose
# width is 60 % of the largest 3:4 window that fits, centred horizontally and 40 % down.
_CROP_WIDTH_FRACTION = 0.6
_CROP_CENTRE_Y = 0.40
# Thumbnail sizes tried, largest first (3:4 portrait).
_THUMB_WIDTHS = (48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8)
# Below this quality the blocking hides the eyes; a smaller thumbnail at a better quality is
# easier for a teller to compare with the person.
_THUMB_MIN_GOOD_QUALITY = 30


def _face_crop(img: Image.Image) -> Image.Image:
    w, h = img.size
    crop_w = max(1, round(min(w, h * 3 / 4) * _CROP_WIDTH_FRACTION))
    crop_h = max(1, min(h, round(crop_w * 4 / 3)))
    left = max(0, min(w - crop_w, round(w / 2 - crop_w / 2)))
    top = max(0, min(h - crop_h, round(h * _CROP_CENTRE_Y - crop_h / 2)))
    return img.crop((left, top, left + crop_w, top + crop_h))


def _encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if fmt == "WEBP":
        # method=6: slowest, smallest; the images are tiny so it costs well under a millisecond.
        img.save(buf, "WEBP", quality=quality, method=6)
    else:
        img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _best_quality(img: Image.Image, fmt: str, max_bytes: int) -> tuple[int, bytes] | None:
    """Highest quality in 1..95 whose encoding fits ``max_bytes`` (binary search), or None."""
    lo, hi = 1, 95
    best: tuple[int, bytes] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        encoded = _encode(img, fmt, mid)
        if len(encoded) <= max_bytes:
            best = (mid, encoded)
            lo = mid + 1
        else:
            hi = mid - 1
    return best


def _sizes(crop: Image.Image) -> Iterator[tuple[int, int]]:
    seen: set[tuple[int, int]] = set()
    for width in _THUMB_WIDTHS:
        # Never upscale a tiny source: that only spends bytes on interpolation.
        w = max(1, min(width, crop.width))
        h = max(1, min(round(w * 4 / 3), crop.height))
        if (w, h) not in seen:
            seen.add((w, h))
            yield w, h


def face_thumbnail(
    image_bytes: bytes,
    *,
    max_bytes: int = THUMBNAIL_MAX_BYTES,
    fmt: Literal["webp", "jpeg"] = "webp",
) -> bytes:
    """A face thumbnail of at most ``max_bytes`` for the attestation (CWT claim 5).

    Greyscale by default: at 400 bytes, resolution buys more recognisability than colour does.
    Colour is used only when it fits at the same size and quality. WebP is the default because
    its container costs ~30 bytes against JPEG's ~200 of tables, which nearly doubles the pixels
    we can afford; ``fmt="jpeg"`` is there for verifiers that cannot show WebP.

    The input is normally ``ProcessedPhoto.image``, but it goes through the same guarded decoder
    as an upload, so passing a raw upload is safe too.
    """
    img = _open_checked(image_bytes, max_pixels=MAX_PIXELS, max_side=MAX_SIDE)
    try:
        try:
            colour = _face_crop(_to_clean_rgb(img))
        except Exception:
            raise PhotoError("undecodable", _UNREADABLE) from None
    finally:
        img.close()
    pil_fmt = "WEBP" if fmt == "webp" and features.check("webp") else "JPEG"
    grey = ImageOps.autocontrast(colour.convert("L"), cutoff=1)

    fallback: tuple[Image.Image, int, bytes] | None = None
    for size in _sizes(grey):
        small = grey.resize(size, Image.Resampling.LANCZOS)
        found = _best_quality(small, pil_fmt, max_bytes)
        if found is None:
            continue
        quality, encoded = found
        if quality >= _THUMB_MIN_GOOD_QUALITY:
            fallback = (small, quality, encoded)
            break
        if fallback is None:
            fallback = (small, quality, encoded)
    if fallback is None:
        raise PhotoError(
            "thumbnail_too_large", f"A face thumbnail cannot be made within {max_bytes} bytes."
        )
    small, quality, encoded = fallback
    coloured = _encode(colour.resize(small.size, Image.Resampling.LANCZOS), pil_fmt, quality)
    return coloured if len(coloured) <= max_bytes else encoded
