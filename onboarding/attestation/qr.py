"""QR rendering (``qrcode``) and reading (``zxing-cpp``) for attestation text.

The text is encoded as one *alphanumeric-mode* segment: the Base45 alphabet is exactly
the QR alphanumeric set (digits, A-Z, space, ``$%*+-./:``), and so is a prefix like
``ID1:``, which is why Base45 exists. Error correction Q (25 % recovery) for print, M
(15 %) for screens, which do not get scuffed. Anything that would need a version above
25 at Q is refused, so every card prints legibly at 40 mm.

``qrcode`` computes the module matrix (the slow part: mask selection); the SVG path and
the PNG are drawn from that matrix here, once, so a card needing both pays for one
matrix.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, Literal

from onboarding.attestation.errors import QrDecodeError, QrError, QrTooLargeError

__all__ = [
    "MAX_VERSION",
    "QrCode",
    "decode_image",
    "make_qr",
    "qr_version",
    "render_png",
    "render_svg",
]

MAX_VERSION = 25
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
Medium = Literal["print", "screen"]
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _level(name: str) -> int:
    from qrcode import constants

    levels: dict[str, int] = {"L": constants.ERROR_CORRECT_L, "M": constants.ERROR_CORRECT_M,
                              "Q": constants.ERROR_CORRECT_Q, "H": constants.ERROR_CORRECT_H}
    return levels[name]


def _qrcode(text: str, level: str, version: int | None = None) -> Any:
    import qrcode
    from qrcode.exceptions import DataOverflowError
    from qrcode.util import MODE_ALPHA_NUM, QRData

    if not text or not set(text) <= _ALPHANUMERIC:
        raise QrError("QR text must use only the QR alphanumeric set (Base45 + prefix)",
                      code="qr_not_alphanumeric")
    code = qrcode.QRCode(version=version, error_correction=_level(level), border=0)
    code.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM), optimize=0)
    try:
        code.best_fit(start=version)
    except (DataOverflowError, ValueError):  # qrcode raises either past version 40
        raise QrTooLargeError("text does not fit any QR version", version=None,
                              limit=MAX_VERSION) from None
    return code


def qr_version(text: str, error_correction: str = "Q") -> int:
    """Smallest QR version holding ``text`` as one alphanumeric segment."""
    version: int = _qrcode(text, error_correction).version
    return version


@dataclass(frozen=True, slots=True)
class QrCode:
    """A computed QR symbol: ``modules[row][col]`` is True for dark, no quiet zone."""

    text: str
    version: int
    error_correction: str
    modules: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        return len(self.modules)

    def svg(self, *, border: int = 4, width: str | None = None) -> str:
        """Standalone SVG. ``width`` (e.g. ``"40mm"``) sets the printed size; otherwise the
        image scales to its container. One path, crisp edges, no scripts."""
        n = self.size + 2 * border
        parts: list[str] = []
        for y, row in enumerate(self.modules):
            x = 0
            length = len(row)
            while x < length:
                if row[x]:
                    start = x
                    while x < length and row[x]:
                        x += 1
                    parts.append(f"M{start + border},{y + border}h{x - start}v1h-{x - start}z")
                else:
                    x += 1
        size = f' width="{width}" height="{width}"' if width else ""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}"{size} '
            f'shape-rendering="crispEdges" role="img" aria-label="QR code">'
            f'<rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/></svg>'
        )

    def png(self, *, scale: int = 8, border: int = 4) -> bytes:
        """1-bit PNG, ``scale`` pixels per module."""
        from PIL import Image

        n = self.size + 2 * border
        blank = b"\xff" * n
        rows = [blank] * border
        pad = b"\xff" * border
        for row in self.modules:
            rows.append(pad + bytes(0 if dark else 255 for dark in row) + pad)
        rows.extend([blank] * border)
        image = Image.frombytes("L", (n, n), b"".join(rows))
        image = image.resize((n * scale, n * scale), Image.Resampling.NEAREST).convert("1")
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def make_qr(text: str, *, medium: Medium = "print", max_version: int = MAX_VERSION) -> QrCode:
    """Compute the QR for ``text``: level Q for print, M for screen.

    Refuses (:class:`QrTooLargeError`) any text that needs more than ``max_version`` at
    level Q, whatever the medium: what is shown on a screen must also print.
    """
    if medium not in ("print", "screen"):
        raise ValueError("medium is 'print' or 'screen'")
    at_q = qr_version(text, "Q")
    if at_q > max_version:
        raise QrTooLargeError(
            f"needs QR version {at_q} at error correction Q; the limit is {max_version}",
            version=at_q,
            limit=max_version,
        )
    level = "Q" if medium == "print" else "M"
    code = _qrcode(text, level)
    code.make(fit=False)
    matrix = tuple(tuple(bool(m) for m in row) for row in code.modules)
    return QrCode(text=text, version=int(code.version), error_correction=level, modules=matrix)


def render_svg(text: str, *, medium: Medium = "print", width: str | None = None) -> tuple[str, int]:
    """``(svg, version)`` for ``text``."""
    code = make_qr(text, medium=medium)
    return code.svg(width=width), code.version


def render_png(text: str, *, medium: Medium = "print", scale: int = 8) -> tuple[bytes, int]:
    """``(png_bytes, version)`` for ``text``."""
    code = make_qr(text, medium=medium)
    return code.png(scale=scale), code.version


def decode_image(source: bytes | str | os.PathLike[str]) -> str:
    """Text of the first QR code in an image (bytes of a PNG/JPEG/WebP..., or a path).

    Pixel-flood images are refused before decoding (explicit dimension check).
    """
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, bytes | bytearray):
        if len(source) > MAX_IMAGE_BYTES:
            raise QrDecodeError("image file is too large")
        stream: io.BytesIO | str | os.PathLike[str] = io.BytesIO(bytes(source))
    else:
        try:
            too_large = os.path.getsize(source) > MAX_IMAGE_BYTES
        except OSError as exc:
            raise QrDecodeError(f"cannot read the image file ({exc.strerror})") from None
        if too_large:
            raise QrDecodeError("image file is too large")
        stream = source
    try:
        with Image.open(stream) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise QrDecodeError(f"image has {width}x{height} pixels; too many")
            image.load()
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise QrDecodeError(f"not a readable image ({type(exc).__name__})") from None
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for candidate in _decode_passes(gray):
        for result in zxingcpp.read_barcodes(candidate, formats=qr_only):
            if result.valid and result.text:
                return str(result.text)
    raise QrDecodeError("no QR code found in the image")


def _decode_passes(gray: Any) -> Any:
    """The image as is, then sharpened and enlarged: a second pass recovers slightly
    blurred phone photos and small screen modules (bench/qr_photo_bench.py: 97 % → 100 %
    of the test set, p95 still ~20 ms) at no cost to images that decode the first time."""
    from PIL import ImageFilter

    yield gray
    if gray.width * gray.height * 4 <= MAX_IMAGE_PIXELS:
        sharp = gray.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2))
        yield sharp.resize((gray.width * 2, gray.height * 2))
