"""Photos (SECURITY.md F, 23-24) and printable cards (issue 3, Outputs; FORMATS.md QR).

Plain functions: no database, no app. Test images are drawn with Pillow; cards are rasterised
with pypdfium2 and their QR read back with zxing-cpp, as a bank's scanner would.
"""

from __future__ import annotations

import io
import logging
import random
import re
import struct
import time
import unicodedata
import zlib
from datetime import date
from typing import Literal

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageDraw, ImageFile
from PIL.PngImagePlugin import PngInfo

from onboarding.cards import (
    MAX_QR_VERSION,
    MIN_QR_WIDTH_MM,
    CardError,
    is_neutral,
    qr_modules,
    qr_placement,
    render_card_pdf,
)
from onboarding.photos import (
    THUMBNAIL_MAX_BYTES,
    PhotoError,
    ProcessedPhoto,
    face_thumbnail,
    process_upload,
)

CANARY = "CANARY-7f3a9c"
B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


# --- helpers ----------------------------------------------------------------------------------


def portrait(size: tuple[int, int] = (480, 640), seed: int = 0) -> Image.Image:
    """A synthetic head-and-shoulders picture: background, shoulders, face, eyes, mouth."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (rng.randint(150, 230), rng.randint(150, 230), 200))
    d = ImageDraw.Draw(img)
    d.ellipse((w * 0.1, h * 0.7, w * 0.9, h * 1.3), fill=(30, 40, 90))
    skin = (rng.randint(90, 230), rng.randint(60, 190), rng.randint(40, 160))
    d.ellipse((w * 0.3, h * 0.18, w * 0.7, h * 0.66), fill=skin)
    d.ellipse((w * 0.28, h * 0.1, w * 0.72, h * 0.3), fill=(40, 25, 10))
    for ex in (0.42, 0.58):
        d.ellipse((w * (ex - 0.03), h * 0.38, w * (ex + 0.03), h * 0.42), fill=(20, 20, 20))
    d.line((w * 0.44, h * 0.55, w * 0.56, h * 0.55), fill=(120, 30, 30), width=max(1, w // 80))
    return img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = f"{CANARY}-description"  # ImageDescription
    exif[0x010F] = f"{CANARY}-make"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.9)
    gps[0x1B] = f"ASCII\0\0\0{CANARY}-gps"  # GPSProcessingMethod
    return exif


XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    f'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:title="{CANARY}-xmp"/></rdf:RDF>'
    "</x:xmpmeta>"
).encode()


def with_iptc(jpeg: bytes) -> bytes:
    """Insert a Photoshop APP13 segment carrying an IPTC caption right after SOI."""
    caption = f"{CANARY}-iptc".encode()
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


MARKERS = [CANARY.encode(), b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"acsp", b"Photoshop"]
META_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop", "dpi"}


def assert_clean(result: ProcessedPhoto) -> None:
    for marker in MARKERS:
        assert marker not in result.image, marker
    with Image.open(io.BytesIO(result.image)) as out:
        assert out.format == "JPEG"
        assert not (META_KEYS & set(out.info)), out.info
        assert not any(isinstance(v, (str, bytes)) and CANARY in str(v) for v in out.info.values())
        exif = out.getexif()
        assert len(exif) == 0
        assert len(exif.get_ifd(0x8825)) == 0
        assert out.size == (result.width, result.height)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flood_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height greyscale pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def flood_jpeg(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 dimensions rewritten."""
    data = bytearray(encode(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# --- photos: metadata -------------------------------------------------------------------------


def test_jpeg_exif_gps_xmp_iptc_icc_comment_are_stripped() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        portrait(),
        "JPEG",
        exif=exif_with_gps(),
        xmp=XMP,
        icc_profile=icc,
        comment=f"{CANARY}-comment",
    )
    data = with_iptc(data)
    for marker in (CANARY.encode(), b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"acsp"):
        assert marker in data  # the input really carries them
    with Image.open(io.BytesIO(data)) as src:
        assert src.getexif().get_ifd(0x8825)  # and Pillow sees the GPS block
    assert_clean(process_upload(data))


def test_png_text_chunks_exif_and_icc_are_stripped() -> None:
    info = PngInfo()
    info.add_text("Comment", f"{CANARY}-tEXt")
    info.add_text("Description", f"{CANARY}-zTXt", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(portrait(), "PNG", pnginfo=info, exif=exif_with_gps(), icc_profile=icc)
    assert b"tEXt" in data and b"zTXt" in data and b"iTXt" in data and b"eXIf" in data
    result = process_upload(data)
    assert_clean(result)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in result.image


def test_webp_exif_and_xmp_are_stripped() -> None:
    data = encode(portrait(), "WEBP", exif=exif_with_gps(), xmp=XMP, quality=80)
    assert CANARY.encode() in data
    assert_clean(process_upload(data))


def test_exif_orientation_is_applied_before_stripping() -> None:
    # Stored landscape: left half red, right half blue. Orientation 6 = rotate 90 deg clockwise
    # to display, so the person sees red on top.
    img = Image.new("RGB", (400, 200), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    result = process_upload(encode(img, "JPEG", exif=exif, quality=95))
    assert (result.width, result.height) == (200, 400)
    with Image.open(io.BytesIO(result.image)) as out:
        top, bottom = out.getpixel((100, 50)), out.getpixel((100, 350))
        assert out.getexif().get(0x0112) is None
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_output_is_a_bounded_jpeg(fmt: str) -> None:
    result = process_upload(encode(portrait((3000, 2000)), fmt))
    assert (result.width, result.height) == (1200, 800)
    assert result.content_type == "image/jpeg"
    assert result.image.startswith(b"\xff\xd8\xff")
    assert len(result.image) < 400_000


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "I;16", "1", "CMYK"])
def test_unusual_modes_are_converted(mode: str) -> None:
    img = portrait((300, 400)).convert("RGB")
    if mode == "I;16":
        # 16-bit greyscale with values up to 51000: must be scaled, not clipped to white.
        converted = img.convert("L").convert("I").point(lambda v: v * 200).convert("I;16")
    else:
        converted = img.convert(mode)
    result = process_upload(encode(converted, "JPEG" if mode == "CMYK" else "PNG"))
    with Image.open(io.BytesIO(result.image)) as out:
        assert out.mode == "RGB" and out.size == (300, 400)
        lo, hi = out.convert("L").getextrema()
        assert isinstance(lo, int) and isinstance(hi, int)
        assert hi - lo > 50  # not flattened to a single colour


# --- photos: rejections -----------------------------------------------------------------------


def test_text_renamed_jpg_gif_bmp_svg_and_empty_are_rejected() -> None:
    gif = encode(portrait(), "GIF")
    bmp = encode(portrait(), "BMP")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"/>'
    for data in (b"Dear caseworker, this is not a photo.\n", gif, bmp, svg):
        with pytest.raises(PhotoError) as err:
            process_upload(data)
        assert err.value.code == "unsupported_type"
        assert err.value.message == "The file is not a JPEG, PNG or WebP photo."
    with pytest.raises(PhotoError) as err:
        process_upload(b"")
    assert err.value.code == "empty"


def test_file_size_limit() -> None:
    data = encode(portrait(), "PNG")
    with pytest.raises(PhotoError) as err:
        process_upload(data, max_bytes=len(data) - 1)
    assert err.value.code == "file_too_large"
    assert "too large" in err.value.message
    assert process_upload(data, max_bytes=len(data)).width == 480


def test_too_small_is_rejected() -> None:
    with pytest.raises(PhotoError) as err:
        process_upload(encode(portrait((80, 120)), "PNG"))
    assert err.value.code == "too_small"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(flood_png(30_000, 30_000), id="png-30000x30000"),
        pytest.param(flood_png(8_000, 6_000), id="png-48MP-below-pillow-limit"),
        pytest.param(flood_png(12_000, 200), id="png-side-too-long"),
        pytest.param(flood_jpeg(30_000, 30_000), id="jpeg-30000x30000"),
        pytest.param(flood_jpeg(9_000, 5_000), id="jpeg-45MP"),
    ],
)
def test_pixel_flood_is_rejected_from_the_header(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(data) < 2_000

    def no_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data must not be decoded")

    # If the decoder ran, the error code would be "undecodable", not "too_many_pixels".
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    start = time.perf_counter()
    with pytest.raises(PhotoError) as err:
        process_upload(data)
    assert time.perf_counter() - start < 0.5
    assert err.value.code == "too_many_pixels"
    assert err.value.message.startswith("The photo is too large")


def test_custom_pixel_limit() -> None:
    with pytest.raises(PhotoError) as err:
        process_upload(encode(portrait((600, 600)), "PNG"), max_pixels=300_000)
    assert err.value.code == "too_many_pixels"


VALID = {fmt: encode(portrait((160, 200)), fmt) for fmt in ("JPEG", "PNG", "WEBP")}
MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x01\x00\x00WEBPVP8 "]


def only_photo_errors(data: bytes) -> None:
    try:
        result = process_upload(data)
    except PhotoError as exc:
        assert exc.code and exc.message
    else:
        assert result.image.startswith(b"\xff\xd8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from([b"", *MAGICS]), body=st.binary(max_size=512))
def test_random_bytes_give_photo_error(prefix: bytes, body: bytes) -> None:
    only_photo_errors(prefix + body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(sorted(VALID)), cut=st.floats(0.0, 0.999))
def test_truncated_images_give_photo_error(fmt: str, cut: float) -> None:
    data = VALID[fmt]
    truncated = data[: int(len(data) * cut)]
    if cut < 0.9:  # pixel data is missing: must be refused
        with pytest.raises(PhotoError):
            process_upload(truncated)
    else:  # only trailer bytes may be gone (PNG IEND...): either outcome, never a crash
        only_photo_errors(truncated)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(VALID)),
    flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_garbled_images_never_raise_anything_else(fmt: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray(VALID[fmt])
    for where, value in flips:
        data[int(len(data) * where)] = value
    only_photo_errors(bytes(data))


# --- photos: thumbnail ------------------------------------------------------------------------


def random_image(rng: random.Random) -> Image.Image:
    w, h = rng.choice([(1, 1), (3, 500), (500, 3), (16, 16)] + [(0, 0)] * 8)
    if w == 0:
        w, h = rng.randint(20, 400), rng.randint(20, 400)
    kind = rng.choice(["noise", "portrait", "shapes", "flat"])
    if kind == "noise":  # the worst case for a compressor
        return Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
    if kind == "portrait":
        return portrait((w, h), seed=rng.randint(0, 1_000))
    if kind == "flat":
        return Image.new("RGB", (w, h), tuple(rng.randint(0, 255) for _ in range(3)))
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(1, 40)):
        box = (
            sorted(rng.randint(0, w) for _ in range(2)),
            sorted(rng.randint(0, h) for _ in range(2)),
        )
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        d.rectangle((box[0][0], box[1][0], box[0][1], box[1][1]), fill=fill)
    return img


@pytest.mark.parametrize("fmt", ["webp", "jpeg"])
def test_thumbnail_is_at_most_400_bytes_over_many_random_images(fmt: str) -> None:
    rng = random.Random(20240601 + len(fmt))
    sizes = []
    for _ in range(60 if fmt == "webp" else 30):
        source = encode(random_image(rng), rng.choice(["PNG", "JPEG", "WEBP"]))
        thumb = face_thumbnail(source, fmt=fmt)  # type: ignore[arg-type]
        assert 0 < len(thumb) <= THUMBNAIL_MAX_BYTES
        with Image.open(io.BytesIO(thumb)) as img:
            img.load()
            assert img.format == fmt.upper()
            assert not img.info.get("exif") and not img.info.get("icc_profile")
        sizes.append(len(thumb))
    assert max(sizes) <= 400


def test_thumbnail_of_a_portrait_keeps_useful_resolution() -> None:
    photo = process_upload(encode(portrait((900, 1200)), "JPEG", quality=92))
    thumb = face_thumbnail(photo.image)
    assert len(thumb) <= 400 and thumb[:4] == b"RIFF" and thumb[8:12] == b"WEBP"
    with Image.open(io.BytesIO(thumb)) as img:
        w, h = img.size
        assert w >= 24 and abs(h - round(w * 4 / 3)) <= 1  # 3:4 portrait


def test_thumbnail_smaller_limit_and_impossible_limit() -> None:
    source = encode(portrait(), "PNG")
    assert len(face_thumbnail(source, max_bytes=200)) <= 200
    with pytest.raises(PhotoError) as err:
        face_thumbnail(source, max_bytes=10)
    assert err.value.code == "thumbnail_too_large"


def test_thumbnail_rejects_what_upload_rejects() -> None:
    with pytest.raises(PhotoError):
        face_thumbnail(b"GIF89a not really")
    with pytest.raises(PhotoError) as err:
        face_thumbnail(flood_png(30_000, 30_000))
    assert err.value.code == "too_many_pixels"


# --- cards ------------------------------------------------------------------------------------


def attestation_text(chars: int, seed: int) -> str:
    rng = random.Random(seed)
    return "ID1:" + "".join(rng.choice(B45) for _ in range(chars - 4))


SHORT_QR = attestation_text(360, 1)  # ~ an attestation without photo: version 14
LONG_QR = attestation_text(1000, 2)  # ~ with a 400-byte thumbnail: version 24-25
NAMES = ["Олена Петренко-Шевчук", "Zoe\u0308 N\u0303u\u0301n\u0303ez", "Đặng Thị Ngọc"]
EXPIRES = date(2027, 5, 31)
FORBIDDEN = re.compile(
    r"surviv|victim|v[íi]ctima|traffick|\btrata\b|tr[áa]fico|sobreviv|supervivi", re.IGNORECASE
)


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return process_upload(encode(portrait((600, 800), seed=3), "JPEG")).image


def rasterise(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil() for i in range(len(doc))]
    finally:
        doc.close()


def pdf_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        meta = " ".join(str(v) for v in doc.get_metadata_dict().values())
    finally:
        doc.close()
    return unicodedata.normalize("NFC", " ".join(f"{text} {meta}".split()))


def decode_qr(images: list[Image.Image]) -> list[tuple[int, str, float]]:
    """(page, text, width in px) of every QR found."""
    found = []
    for page, img in enumerate(images):
        for barcode in zxingcpp.read_barcodes(img):
            p = barcode.position
            width = (
                (p.top_right.x - p.top_left.x) ** 2 + (p.top_right.y - p.top_left.y) ** 2
            ) ** 0.5
            found.append((page, barcode.text, width + 1))
    return found


@pytest.mark.parametrize("size", ["card", "a6"])
@pytest.mark.parametrize("qr_text", [SHORT_QR, LONG_QR], ids=["short-360", "long-1000"])
def test_card_qr_scans_back_and_is_at_least_40mm(
    size: str, qr_text: str, photo_jpeg: bytes
) -> None:
    pdf = render_card_pdf(
        qr_text=qr_text,
        names=NAMES,
        photo_jpeg=photo_jpeg,
        issuer_display_name="Fundación Esperanza del Norte",
        expires=EXPIRES,
        language="es",
        size=size,  # type: ignore[arg-type]
    )
    assert pdf.startswith(b"%PDF-")
    place = qr_placement(qr_text, size)  # type: ignore[arg-type]
    version, rows = qr_modules(qr_text)
    assert place.version == version <= MAX_QR_VERSION and place.modules == len(rows)
    assert version == (14 if qr_text is SHORT_QR else 25)
    assert place.width_mm >= MIN_QR_WIDTH_MM
    # Quiet zone: four modules of clear paper on every side, inside the page.
    width, height = {"card": (85.6, 54.0), "a6": (105.0, 148.0)}[size]
    quiet = 4 * place.module_mm
    assert place.x_mm >= quiet and place.y_mm >= quiet
    assert place.x_mm + place.width_mm + quiet <= width
    assert place.y_mm + place.width_mm + quiet <= height

    images = rasterise(pdf)
    assert len(images) == place.pages == 1
    found = decode_qr(images)
    assert [(page, text) for page, text, _ in found] == [(0, qr_text)]
    printed_mm = found[0][2] / 300 * 25.4  # measured on the raster, independently of the plan
    assert printed_mm == pytest.approx(place.width_mm, abs=0.3)
    assert printed_mm >= MIN_QR_WIDTH_MM

    text = pdf_text(pdf)
    for name in NAMES:
        assert unicodedata.normalize("NFC", name) in text
    assert "2027-05-31" in text and "Vigente hasta" in text
    assert "Fundación Esperanza del Norte" in text


@pytest.mark.parametrize("language", ["en", "es", "es-MX", "fr", "pt", "xx"])
def test_card_says_nothing_about_why(language: str) -> None:
    pdf = render_card_pdf(
        qr_text=SHORT_QR,
        names=["Ana María López"],
        photo_jpeg=None,
        issuer_display_name="Fundación Esperanza",
        expires=EXPIRES,
        language=language,
        size="card",
    )
    text = pdf_text(pdf)
    assert "Ana María López" in text and "2027-05-31" in text
    assert not FORBIDDEN.search(text), text
    assert b"urviv" not in pdf.lower() and b"raffick" not in pdf.lower()
    expected = {"es": "Constancia de identidad", "fr": "Attestation d", "pt": "Atestado"}
    assert expected.get(language[:2], "Identity attestation") in text


@pytest.mark.parametrize("issuer", ["Anti-Trafficking Network", "Casa para Víctimas de Trata"])
def test_non_neutral_issuer_name_is_refused(issuer: str) -> None:
    assert not is_neutral(issuer) and is_neutral("Fundación Esperanza del Norte")
    with pytest.raises(CardError):
        render_card_pdf(
            qr_text=SHORT_QR,
            names=["A"],
            photo_jpeg=None,
            issuer_display_name=issuer,
            expires=EXPIRES,
            size="a6",
        )


def test_qr_above_version_25_is_refused() -> None:
    assert qr_modules(attestation_text(1041, 3))[0] == 25  # the capacity of 25-Q
    for chars in (1042, 1200, 5000):
        with pytest.raises(CardError):
            qr_modules(attestation_text(chars, 3))
        with pytest.raises(CardError):
            render_card_pdf(
                qr_text=attestation_text(chars, 3),
                names=["A"],
                photo_jpeg=None,
                issuer_display_name="X",
                expires=EXPIRES,
                size="card",
            )


def test_short_qr_gets_a_two_page_card_with_the_qr_on_the_back(photo_jpeg: bytes) -> None:
    qr_text = attestation_text(60, 4)  # version 4: at 4 modules of quiet zone it cannot reach
    place = qr_placement(qr_text, "card")  # 40 mm beside the front column
    assert place.pages == 2 and place.page == 1 and place.width_mm >= MIN_QR_WIDTH_MM
    pdf = render_card_pdf(
        qr_text=qr_text,
        names=["Ana López"],
        photo_jpeg=photo_jpeg,
        issuer_display_name="Fundación Esperanza",
        expires=EXPIRES,
        size="card",
    )
    images = rasterise(pdf)
    assert len(images) == 2
    assert [(page, text) for page, text, _ in decode_qr(images)] == [(1, qr_text)]


def test_scripts_the_font_lacks_and_arabic_never_crash(photo_jpeg: bytes) -> None:
    names = ["محمد عبد الله", "علاء پریسا", "דוד כהן", "สมชาย ใจดี", "王小明", "ሰላም", "Ελένη"]
    sizes: tuple[Literal["card", "a6"], ...] = ("card", "a6")
    for size in sizes:
        pdf = render_card_pdf(
            qr_text=SHORT_QR,
            names=names,
            photo_jpeg=photo_jpeg,
            issuer_display_name="جمعية الأمل",
            expires=EXPIRES,
            language="ar",
            size=size,
        )
        assert [text for _, text, _ in decode_qr(rasterise(pdf, 200))] == [SHORT_QR]


def test_names_in_scripts_dejavu_lacks_are_printed_with_host_fonts() -> None:
    """Thai, Chinese, Amharic, Hindi, Burmese and Khmer names print as themselves (from the
    Noto / WenQuanYi fonts scripts/ensure-fonts.sh installs), not as U+FFFD; a letter no font
    has still becomes U+FFFD and the card still renders."""
    from onboarding import cards

    assert cards._fallback_paths(), "card fonts missing: run scripts/ensure-fonts.sh as root"
    names = ["สมชาย ใจดี", "王小明", "ሰላም ተስፋዬ", "मीना कुमारी", "မောင်မောင်", "សុខ ចាន់", "𓀀x"]
    pdf = render_card_pdf(qr_text=SHORT_QR, names=names, photo_jpeg=None,
                          issuer_display_name="Harbour Community Trust", expires=EXPIRES,
                          size="card")
    text = pdf_text(pdf).replace(" ", "")
    for name in names[:-1]:
        assert unicodedata.normalize("NFC", name).replace(" ", "") in text, name
    assert "\ufffdx" in text  # an Egyptian hieroglyph: no host font has it
    assert [t for _, t, _ in decode_qr(rasterise(pdf))] == [SHORT_QR]
    # each fallback font is embedded only when a name needs it: a Latin card stays lean
    latin = render_card_pdf(qr_text=SHORT_QR, names=["Amina Yusuf"], photo_jpeg=None,
                            issuer_display_name="Harbour Community Trust", expires=EXPIRES,
                            size="card")
    assert b"NotoSansThai" in pdf and b"NotoSansThai" not in latin


def test_long_names_are_cut_and_stay_clear_of_the_qr() -> None:
    long_name = "Maria " + " ".join(["Dolores de la Santísima Trinidad"] * 6)
    pdf = render_card_pdf(
        qr_text=LONG_QR,
        names=[long_name, "X" * 300, *(f"Alias{i}" for i in range(30))],
        photo_jpeg=None,
        issuer_display_name="Organización " * 20,
        expires=EXPIRES,
        size="card",
    )
    place = qr_placement(LONG_QR, "card")
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        textpage = page.get_textpage()
        rightmost = max(
            textpage.get_charbox(i)[2] for i in range(textpage.count_chars())
        )  # points from the left edge
        text = textpage.get_text_range()
    finally:
        doc.close()
    assert rightmost / 72 * 25.4 <= place.x_mm - 4 * place.module_mm
    assert "…" in text and "2027-05-31" in text
    assert [t for _, t, _ in decode_qr(rasterise(pdf))] == [LONG_QR]


def test_card_input_errors() -> None:
    common = {"qr_text": SHORT_QR, "issuer_display_name": "X", "expires": EXPIRES}
    with pytest.raises(CardError):
        render_card_pdf(names=[" ", ""], photo_jpeg=None, size="card", **common)  # type: ignore[arg-type]
    with pytest.raises(CardError):
        render_card_pdf(names=["A"], photo_jpeg=b"not a photo", size="card", **common)  # type: ignore[arg-type]
    with pytest.raises(CardError):
        render_card_pdf(names=["A"], photo_jpeg=None, size="a5", **common)  # type: ignore[arg-type]
    with pytest.raises(CardError):
        qr_modules("")


def test_rendering_logs_no_letters_of_the_names(caplog: pytest.LogCaptureFixture) -> None:
    # fontTools logs subset glyph names at INFO ("uni041E", "Zcaron" ...); cards.py pins it.
    caplog.set_level(logging.DEBUG)
    render_card_pdf(
        qr_text=SHORT_QR,
        names=["Zyxwvu Canaryname", "Олена Ŵ"],
        photo_jpeg=None,
        issuer_display_name="Fundación Esperanza",
        expires=EXPIRES,
        size="card",
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Canaryname" not in logged and "Олена" not in logged
    assert "Glyph names" not in logged and "uni041E" not in logged and "Wcircumflex" not in logged


def test_without_any_unicode_font_latin_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    from onboarding import cards

    monkeypatch.setattr(cards, "_find_fonts", lambda: cards._Fonts(None, None))
    pdf = render_card_pdf(
        qr_text=SHORT_QR,
        names=["José Müller", "Олена"],
        photo_jpeg=None,
        issuer_display_name="Fundación Esperanza",
        expires=EXPIRES,
        language="es",
        size="card",
    )
    text = pdf_text(pdf)
    assert "José Müller" in text and "2027-05-31" in text and "?????" in text
    assert [t for _, t, _ in decode_qr(rasterise(pdf))] == [SHORT_QR]
