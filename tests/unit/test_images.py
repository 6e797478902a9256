"""Photo cleaning (cases/images.py): what comes out is upright pixels, nothing else."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat, PngImagePlugin

from cases import images
from cases.images import ImageRefused, Region

GPS_IFD, ORIENTATION, MAKE, MODEL, DATETIME = 0x8825, 0x0112, 0x010F, 0x0110, 0x0132


def exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: where (GPS), with what (make, model), when, and which way up."""
    data = Image.Exif()
    data[ORIENTATION] = orientation
    data[MAKE], data[MODEL], data[DATETIME] = "Apple", "iPhone 15 Pro", "2026:12:01 09:30:00"
    gps = data.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (42.0, 6.0, 30.5), 3: "W", 4: (72.0, 35.0, 10.2)})
    return data


def halves(size=(40, 20)) -> Image.Image:
    """Left half red, right half blue (so a rotation shows)."""
    image = Image.new("RGB", size, (220, 0, 0))
    image.paste((0, 0, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile", "comment", "Author"} & set(image.info)
    for marker in (b"Exif", b"iPhone", b"Apple", b"GPS", b"2026:12:01"):
        assert marker not in data


def test_a_jpeg_with_gps_comes_out_with_no_exif_at_all():
    source = encode(halves((400, 300)), "JPEG", exif=exif(), quality=90)
    assert opened(source).getexif().get_ifd(GPS_IFD)  # the fixture does carry a position
    cleaned = images.clean(source)
    assert cleaned.content_type == "image/jpeg" and (cleaned.width, cleaned.height) == (400, 300)
    assert_no_metadata(cleaned.data)
    assert_no_metadata(cleaned.thumbnail)


def test_the_exif_orientation_is_applied_before_exif_goes():
    # orientation 6: the camera was turned; viewers rotate 90 degrees clockwise
    cleaned = images.clean(encode(halves(), "JPEG", exif=exif(orientation=6), quality=95))
    upright = opened(cleaned.data).convert("RGB")
    assert upright.size == (20, 40)
    top, bottom = upright.getpixel((10, 5)), upright.getpixel((10, 35))
    assert top[0] > 150 and top[2] < 80  # red is on top now
    assert bottom[2] > 150 and bottom[0] < 80
    assert dict(opened(cleaned.data).getexif()) == {}


def test_a_png_stays_lossless_without_its_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Resident, 12 Elm St")
    image = halves().convert("RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))  # transparency survives in a PNG
    cleaned = images.clean(encode(image, "PNG", pnginfo=info, exif=exif()))
    assert cleaned.content_type == "image/png" and cleaned.extension == "png"
    out = opened(cleaned.data)
    assert out.mode == "RGBA" and out.getpixel((0, 0))[3] == 0
    assert ImageChops.difference(out.convert("RGB"), halves()).getbbox() in (None, (0, 0, 1, 1))
    assert_no_metadata(cleaned.data)
    assert b"Jane Resident" not in cleaned.data


def test_a_gif_is_taken_as_a_png_of_its_first_frame():
    frames = [halves(), Image.new("RGB", (40, 20), (0, 200, 0))]
    source = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=b"hi")
    cleaned = images.clean(source)
    assert cleaned.content_type == "image/png"
    assert opened(cleaned.data).convert("RGB").getpixel((5, 5))[0] > 150  # the first frame


def test_webp_and_heic_become_jpeg_without_exif():
    webp = images.clean(encode(halves((64, 48)), "WEBP", exif=exif(), quality=90))
    heif = images.clean(encode(halves((64, 48)), "HEIF", exif=exif(), quality=90))
    for cleaned in (webp, heif):
        assert cleaned.content_type == "image/jpeg" and opened(cleaned.data).format == "JPEG"
        assert (cleaned.width, cleaned.height) == (64, 48)
        assert_no_metadata(cleaned.data)
    assert pillow_heif.is_supported(encode(halves(), "HEIF"))  # the fixture really is HEIC


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n",
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nEND:VCARD\n",
        b"\xff\xd8\xff\xe0 truncated jpeg",
        b"",
    ],
)
def test_what_is_not_an_image_is_refused(data):
    with pytest.raises(ImageRefused) as refused:
        images.clean(data)
    assert refused.value.reason == "not_image"


def test_a_bmp_or_tiff_is_not_one_of_the_formats_taken():
    for fmt in ("BMP", "TIFF"):
        with pytest.raises(ImageRefused):
            images.clean(encode(halves(), fmt))


def test_an_image_over_5_mb_is_refused():
    noise = Image.merge("RGB", [Image.effect_noise((1400, 1400), 90) for _ in range(3)])
    data = encode(noise, "PNG", compress_level=1)
    assert len(data) > images.MAX_BYTES
    with pytest.raises(ImageRefused) as refused:
        images.clean(data)
    assert refused.value.reason == "too_big"


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = encode(Image.new("1", (8000, 8000)), "PNG")  # tiny file, 64 megapixels
    assert len(bomb) < 100_000
    with pytest.raises(ImageRefused) as refused:
        images.clean(bomb)
    assert refused.value.reason == "too_many_pixels"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def scan_bomb(side: int, scans: int) -> bytes:
    """A progressive greyscale JPEG with a DC scan and then `scans` AC scans of every block.

    Each AC scan is a few dozen bytes (end-of-block runs), yet libjpeg walks every block of the
    image for it: at 7000 x 7000, 5 MB of such scans keep a worker busy for minutes.
    """
    blocks = ((side + 7) // 8) ** 2
    out = b"\xff\xd8" + _segment(0xDB, bytes(1) + bytes([1] * 64))
    out += _segment(0xC2, bytes([8]) + side.to_bytes(2, "big") * 2 + bytes([1, 1, 0x11, 0]))
    out += _segment(0xC4, bytes([0x00, 1]) + bytes(15) + bytes(1))  # DC: one 1-bit code
    out += _segment(0xC4, bytes([0x10, 0, 0, 0, 15]) + bytes(12) + bytes(n << 4 for n in range(15)))
    dc = "0" * blocks  # the DC scan: a zero difference per block
    runs, left = [], blocks
    while left:  # the AC scan: EOB runs (4-bit code n, then n bits) covering every block
        run = min(left, 32767)
        n = run.bit_length() - 1
        runs.append(format(n, "04b") + (format(run - (1 << n), f"0{n}b") if n else ""))
        left -= run
    ac = "".join(runs)

    def packed(bits: str) -> bytes:
        bits += "1" * (-len(bits) % 8)
        data = int(bits, 2).to_bytes(len(bits) // 8, "big")
        return data.replace(b"\xff", b"\xff\x00")

    out += _segment(0xDA, bytes([1, 1, 0x00, 0, 0, 0])) + packed(dc)
    out += (_segment(0xDA, bytes([1, 1, 0x00, 1, 63, 0])) + packed(ac)) * scans
    return out + b"\xff\xd9"


def test_a_jpeg_with_thousands_of_scans_is_refused_before_decoding():
    assert opened(scan_bomb(64, 3)).size == (64, 64)  # a valid JPEG, however odd
    bomb = scan_bomb(64, 2000)
    with pytest.raises(ImageRefused) as refused:
        images.check(bomb)  # staff uploads are checked in the request
    assert refused.value.reason == "too_many_scans"
    with pytest.raises(ImageRefused):
        images.clean(bomb)


def test_an_ordinary_progressive_jpeg_is_taken():
    source = encode(halves((400, 300)), "JPEG", progressive=True, exif=exif(), quality=90)
    assert images.clean(source).content_type == "image/jpeg"


def test_thumbnails_are_small_jpegs_and_huge_photos_are_scaled_down():
    cleaned = images.clean(encode(Image.new("RGB", (5000, 1000), (10, 120, 200)), "JPEG"))
    assert (cleaned.width, cleaned.height) == (images.MAX_SIDE, 819)
    thumb = opened(cleaned.thumbnail)
    assert thumb.format == "JPEG" and max(thumb.size) == images.THUMB_SIDE


def test_blur_changes_only_the_region():
    noise = Image.merge("RGB", [Image.effect_noise((200, 100), 80) for _ in range(3)])
    original = images.clean(encode(noise, "PNG"))
    region = Region.parse("25", "20", "50", "60")
    blurred = images.blur(original.data, region)
    before, after = opened(original.data).convert("RGB"), opened(blurred.data).convert("RGB")
    box = region.box(200, 100)
    assert box == (50, 20, 150, 80)
    assert ImageChops.difference(before, after).getbbox() is not None
    changed = ImageChops.difference(before, after).getbbox()
    assert changed[0] >= box[0] and changed[1] >= box[1]
    assert changed[2] <= box[2] and changed[3] <= box[3]  # nothing outside the region moved
    inside = [ImageStat.Stat(im.crop(box)).stddev[0] for im in (before, after)]
    assert inside[1] < inside[0] / 4  # the noise inside is smoothed away
    assert opened(blurred.thumbnail).size == (200, 100)  # thumbnails never enlarge


def test_blur_on_a_jpeg_leaves_the_rest_nearly_as_it_was():
    photo = Image.merge(
        "RGB",
        [Image.effect_noise((200, 100), 80).filter(ImageFilter.GaussianBlur(1)) for _ in range(3)],
    )
    original = images.clean(encode(photo, "JPEG", quality=95))
    blurred = images.blur(original.data, Region(0, 0, 30, 30))
    before, after = opened(original.data), opened(blurred.data)
    outside = ImageStat.Stat(ImageChops.difference(before, after).crop((100, 50, 200, 100)))
    inside = ImageStat.Stat(ImageChops.difference(before, after).crop((0, 0, 60, 30)))
    assert max(outside.mean) * 4 < min(inside.mean)  # re-encoding noise vs. blurring


@pytest.mark.parametrize(
    "fields",
    [("x", "0", "1", "1"), ("100", "0", "1", "1"), ("0", "0", "0", "5"), ("-1", "0", "5", "5")],
)
def test_a_region_must_be_inside_the_photo(fields):
    with pytest.raises(ValueError):
        Region.parse(*fields)


def test_a_region_past_the_edge_is_cut_at_the_edge():
    assert Region.parse("90", "95", "50", "50") == Region(90, 95, 10, 5)


def test_declared_content_types():
    assert images.accepted_type("image/jpeg") and images.accepted_type("IMAGE/HEIC")
    assert images.accepted_type("image/png; charset=binary")
    assert not images.accepted_type("video/mp4") and not images.accepted_type("text/vcard")
    assert not images.accepted_type("") and not images.accepted_type(None)
