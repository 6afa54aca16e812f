"""QR: alphanumeric mode, error correction, the version-25-at-Q limit, and reading back
with zxing-cpp. The versions measured here are the figures docs/formats.md quotes."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
from att_support import NOW, canary_attested, jpeg_thumbnail, make_world
from PIL import Image

from onboarding.attestation import QrTooLargeError, verify
from onboarding.attestation.errors import QrDecodeError, QrError
from onboarding.attestation.issue import MAX_QR_TEXT_CHARS
from onboarding.attestation.qr import decode_image, make_qr, qr_version


def _random_jpeg_bytes(size: int = 400) -> bytes:
    """Worst case for size: a JPEG header and incompressible bytes."""
    return b"\xff\xd8\xff" + secrets.token_bytes(size - 3)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    world = make_world()
    return {
        "no photo": world.issue(),
        "real 400-byte JPEG": world.issue(attested=canary_attested(thumbnail=jpeg_thumbnail())),
        "random 400 bytes": world.issue(attested=canary_attested(thumbnail=_random_jpeg_bytes())),
    }


def test_versions_within_limits(texts: dict[str, str], record_property: object) -> None:
    versions = {name: (len(text), qr_version(text, "Q"), qr_version(text, "M"))
                for name, text in texts.items()}
    for name, (chars, at_q, at_m) in versions.items():
        print(f"{name}: {chars} characters, version {at_q} at Q, {at_m} at M")
        assert at_q <= 25 and at_m <= at_q
    assert versions["no photo"][1] <= 15
    assert versions["random 400 bytes"][1] >= 22  # the photo dominates the size


def test_capacity_constant_matches_the_qr_tables() -> None:
    assert qr_version("A" * MAX_QR_TEXT_CHARS, "Q") == 25
    assert qr_version("A" * (MAX_QR_TEXT_CHARS + 1), "Q") == 26


def test_refuses_above_version_25_at_q() -> None:
    with pytest.raises(QrTooLargeError) as err:
        make_qr("A" * (MAX_QR_TEXT_CHARS + 1), medium="screen")  # even for screens
    assert err.value.version == 26 and err.value.limit == 25
    with pytest.raises(QrTooLargeError) as err:
        make_qr("A" * 5000)
    assert err.value.version is None


def test_issue_refuses_what_would_not_print() -> None:
    world = make_world()
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = tuple("".join(secrets.choice(letters) for _ in range(60)) for _ in range(3))
    huge = canary_attested(names=names,
                           thumbnail=_random_jpeg_bytes())
    with pytest.raises(QrTooLargeError):
        world.issue(attested=huge)


@pytest.mark.parametrize("text", ["ID1:abc", "ID1:é", "", "ID1:A_B"])
def test_only_the_alphanumeric_set(text: str) -> None:
    with pytest.raises(QrError):
        make_qr(text)


@pytest.mark.parametrize(("medium", "level"), [("print", "Q"), ("screen", "M")])
def test_render_and_read_back(texts: dict[str, str], medium: str, level: str,
                              tmp_path: Path) -> None:
    text = texts["real 400-byte JPEG"]
    code = make_qr(text, medium=medium)  # type: ignore[arg-type]
    assert code.error_correction == level and code.size == 4 * code.version + 17
    png = code.png(scale=4)
    assert decode_image(png) == text
    path = tmp_path / "card.png"
    path.write_bytes(png)
    assert decode_image(path) == text
    svg = code.svg(width="40mm")
    assert svg.startswith("<svg") and 'width="40mm"' in svg and "<script" not in svg
    # The SVG rasterised by Pillow is not possible without a renderer; check geometry:
    assert f'viewBox="0 0 {code.size + 8} {code.size + 8}"' in svg


def test_read_back_verifies(texts: dict[str, str]) -> None:
    world = make_world()
    text = world.issue()
    scanned = decode_image(make_qr(text).png(scale=3))
    assert verify(scanned, trust=world.trust, status=None, at=NOW).result == "valid"


def test_read_from_a_photo_like_image(texts: dict[str, str]) -> None:
    """Rotated, scaled, on a grey background, JPEG-compressed."""
    text = texts["no photo"]
    qr_img = Image.open(io.BytesIO(make_qr(text).png(scale=5))).convert("L")
    canvas = Image.new("L", (qr_img.width + 300, qr_img.height + 300), 170)
    canvas.paste(qr_img.rotate(9, expand=True, fillcolor=255), (100, 120))
    out = io.BytesIO()
    canvas.resize((canvas.width * 3 // 4, canvas.height * 3 // 4)).save(out, "JPEG", quality=70)
    assert decode_image(out.getvalue()) == text


def test_decode_failures() -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, "PNG")
    with pytest.raises(QrDecodeError):
        decode_image(blank.getvalue())
    with pytest.raises(QrDecodeError):
        decode_image(b"not an image at all")
    with pytest.raises(QrDecodeError):
        decode_image("/nonexistent/card.png")


def test_pixel_flood_refused_before_decoding() -> None:
    flood = io.BytesIO()
    Image.new("1", (8000, 6000), 1).save(flood, "PNG")  # 48 Mpx, a few KB on disk
    with pytest.raises(QrDecodeError) as err:
        decode_image(flood.getvalue())
    assert "pixels" in err.value.message
