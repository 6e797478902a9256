"""Photos as the store keeps them: checked, upright, metadata-free, thumbnailed; regions blurred.

Every image, texted or uploaded, goes through `clean`. Only its pixels survive: the EXIF
orientation is applied first, then the pixels are copied into a new image and encoded again, so
nothing of the file's metadata (GPS position, camera make and serial, time, EXIF/XMP/IPTC blocks,
comments, thumbnails) can reach the store. Colour profiles are converted to sRGB, then dropped.
JPEG, HEIC/HEIF and WebP come out as JPEG; PNG and GIF (its first frame) as PNG, lossless.

Pillow only decodes the formats listed in FORMATS, and refuses images with more than
MAX_PIXELS pixels before decoding them (a 5 MB file can hold a decompression bomb). A JPEG with
more than MAX_SCANS scans is refused too: libjpeg walks every block of the image for each scan,
and a scan can be a few dozen bytes, so 5 MB of them would keep the worker busy for minutes.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageFilter, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

MAX_BYTES = 5 * 1024 * 1024  # per photo, as texted or uploaded
MAX_PIXELS = 50_000_000  # a 12-megapixel phone photo is 12,000,000
MAX_SIDE = 4096  # longer sides are scaled down (a phone photo is 4032 wide)
THUMB_SIDE = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 80
MAX_SCANS = 100  # a progressive phone photo has about 10
# What Twilio or a browser may call the formats we take (checked before anything is fetched).
ACCEPTED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/gif",
        "image/heic",
        "image/heif",
        "image/heic-sequence",
        "image/heif-sequence",
        "image/webp",
    }
)
FORMATS = ("JPEG", "PNG", "GIF", "HEIF", "WEBP")  # Pillow's names (JPEG opens MPO too)
LOSSLESS = ("PNG", "GIF")  # stored as PNG
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRefused(ValueError):
    """Not a photo we keep; `reason` is too_big, not_image, too_many_pixels or too_many_scans."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Cleaned:
    """A photo ready to store: the image, its thumbnail (always JPEG), size and type."""

    data: bytes
    content_type: str  # image/jpeg | image/png
    width: int
    height: int
    thumbnail: bytes

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


@dataclass(frozen=True)
class Region:
    """A rectangle in percent of the image's width and height (so it fits any rendition)."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def parse(cls, x: str, y: str, w: str, h: str) -> Region:
        """From form fields; ValueError unless it is a rectangle inside the image."""
        try:
            region = cls(float(x), float(y), float(w), float(h))
        except ValueError as exc:
            raise ValueError("x, y, width and height must be numbers (percent)") from exc
        if not (0 <= region.x < 100 and 0 <= region.y < 100 and region.w > 0 and region.h > 0):
            raise ValueError("the region must start inside the photo and have a size")
        return cls(region.x, region.y, min(region.w, 100 - region.x), min(region.h, 100 - region.y))

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The region in pixels of an image this size (at least one pixel)."""
        left, top = int(width * self.x / 100), int(height * self.y / 100)
        right = max(left + 1, min(width, round(width * (self.x + self.w) / 100)))
        bottom = max(top + 1, min(height, round(height * (self.y + self.h) / 100)))
        return left, top, right, bottom

    def as_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


# A marker in entropy-coded data: 0xFF (and fill bytes), then neither 0x00 (a stuffed 0xFF) nor
# a restart marker (which is part of the scan).
_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")


def jpeg_scans(data: bytes, stop_after: int = MAX_SCANS) -> int:
    """How many scans (SOS segments) a JPEG's first image has, counted up to `stop_after` + 1.

    Segments are walked by their lengths and scans' data skipped to the next marker, so bytes
    that merely look like a marker (in EXIF, or a video appended after the image) do not count.
    """
    pos, scans = 2, 0
    while scans <= stop_after and pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break  # not a marker where one should be: libjpeg reports the damage
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:  # SOS: the scan's data runs to the next marker
            scans += 1
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                break
            pos = found.end() - 2
    return scans


def accepted_type(content_type: str | None) -> bool:
    """Whether a declared content type is one of the image formats we take."""
    return (content_type or "").split(";")[0].strip().lower() in ACCEPTED_TYPES


def _open(data: bytes) -> Image.Image:
    """Open (not yet decode) an image of an accepted format, within the pixel limit."""
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_big", f"the photo is over {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRefused("not_image", "not a JPEG, PNG, GIF, HEIC or WebP image") from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRefused("not_image", "the image could not be read") from None
    if image.width * image.height > MAX_PIXELS:
        raise ImageRefused("too_many_pixels", f"the image has over {MAX_PIXELS:,} pixels")
    if image.format in ("JPEG", "MPO") and jpeg_scans(data) > MAX_SCANS:
        raise ImageRefused("too_many_scans", f"the JPEG has over {MAX_SCANS} scans")
    return image


def check(data: bytes) -> str:
    """A quick look (the header only, nothing decoded): the format, or ImageRefused."""
    return str(_open(data).format)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded colour profile (e.g. an iPhone's Display P3) so sRGB pixels look right."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=image.mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as they are


def _pixels_only(image: Image.Image, *, alpha: bool) -> Image.Image:
    """A new image holding only the pixels (RGB, or RGBA when kept lossless): no info at all."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        if alpha:
            pixels = rgba
        else:  # JPEG has no transparency: flatten onto white
            pixels = Image.new("RGB", rgba.size, (255, 255, 255))
            pixels.paste(rgba, mask=rgba.getchannel("A"))
    else:
        pixels = image.convert("RGB") if image.mode != "RGB" else image
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    return clean


def _encode(image: Image.Image, lossless: bool) -> tuple[bytes, str]:
    out = io.BytesIO()
    if lossless:
        image.save(out, "PNG", compress_level=6)
        return out.getvalue(), "image/png"
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"


def _fit(image: Image.Image, side: int) -> Image.Image:
    """The image scaled to fit a side x side box (never enlarged); a new image, no copy first."""
    scale = min(side / image.width, side / image.height, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _thumbnail(image: Image.Image) -> bytes:
    thumb = _fit(image, THUMB_SIDE)
    if thumb.mode != "RGB":
        thumb = _pixels_only(thumb, alpha=False)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMB_QUALITY)
    return out.getvalue()


def _finish(image: Image.Image, lossless: bool) -> Cleaned:
    data, content_type = _encode(image, lossless)
    return Cleaned(data, content_type, image.width, image.height, _thumbnail(image))


def clean(data: bytes) -> Cleaned:
    """The photo as the store keeps it; ImageRefused when it is not one we take."""
    image = _open(data)
    lossless = image.format in LOSSLESS
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # orientation first, before EXIF is gone
        pixels = _pixels_only(_to_srgb(image), alpha=lossless)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageRefused("not_image", "the image could not be decoded") from None
    return _finish(_fit(pixels, MAX_SIDE), lossless)


def blur(data: bytes, region: Region) -> Cleaned:
    """The stored photo with a region blurred beyond recognition (faces, licence plates).

    Only the region changes (a PNG stays the same elsewhere to the pixel; a JPEG is encoded
    again). The radius grows with the region, so a large face is as unreadable as a small plate.
    """
    image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    image.load()
    lossless = image.format == "PNG"
    box = region.box(image.width, image.height)
    width, height = box[2] - box[0], box[3] - box[1]
    radius = max(8.0, max(width, height) / 6)
    patch = image.crop(box)
    # blur a few times: one pass of a large Gaussian still leaves the coarse shapes of letters
    for _ in range(3):
        patch = patch.filter(ImageFilter.GaussianBlur(radius))
    image.paste(patch, box)
    return _finish(image, lossless)
