"""Photos as phones send them, for tests and the benchmark: JPEGs carrying GPS and camera EXIF."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

GPS_IFD, ORIENTATION, MAKE, MODEL = 0x8825, 0x0112, 0x010F, 0x0110


def phone_exif(orientation: int = 1) -> Image.Exif:
    """EXIF the way a phone writes it: position, make and model, orientation."""
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE], exif[MODEL] = orientation, "Apple", "iPhone 15 Pro"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (42.0, 6.0, 30.5), 3: "W", 4: (72.0, 35.0, 10.2)})
    return exif


def phone_jpeg(
    size: tuple[int, int] = (640, 480), *, texture: bool = False, quality: int = 90
) -> bytes:
    """A JPEG with GPS EXIF; `texture` makes it compress like a real photo (slower to build)."""
    if texture:
        channels = [
            Image.effect_noise(size, 60).filter(ImageFilter.GaussianBlur(2)) for _ in range(3)
        ]
        image = Image.merge("RGB", channels)
    else:
        image = Image.new("RGB", size, (120, 130, 140))
        image.paste((200, 40, 40), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=phone_exif())
    return out.getvalue()
