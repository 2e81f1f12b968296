"""The image corpus of the tests, generated in memory: each builder returns the file's bytes."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image, ImageCms, PngImagePlugin

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
GPS_IFD = 0x8825
SECRET = b"ZIP-PAYLOAD-secret.txt-do-not-forward"


def encode(im: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def photo(width: int = 640, height: int = 480) -> Image.Image:
    """A smooth gradient picture (no flat areas, so JPEG sizes behave like photos)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    return Image.merge("RGB", (gradient, radial, gradient.transpose(Image.Transpose.ROTATE_180)))


def jpeg(width: int = 640, height: int = 480, **params: Any) -> bytes:
    return encode(photo(width, height), "JPEG", quality=90, **params)


def png(width: int = 320, height: int = 240) -> bytes:
    return encode(photo(width, height), "PNG")


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]


def header_only_jpeg() -> bytes:
    return jpeg()[:40]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 5000) -> bytes:
    """A valid 1-bit PNG of ``side`` x ``side`` zero pixels: a few kB that inflate to MBs."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions (the pixel data never follows)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose SOF0 frame header is patched to claim other dimensions."""
    data = bytearray(jpeg(16, 16))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def text_chunk_bomb() -> bytes:
    """A PNG whose zTXt chunk inflates to 4 MiB (past Pillow's MAX_TEXT_CHUNK)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("bomb", "A" * (4 * 1024 * 1024), zip=True)
    return encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)


def animated_gif(colours: tuple[tuple[int, int, int], ...] = (RED, GREEN, BLUE)) -> bytes:
    frames = [Image.new("RGB", (40, 30), colour) for colour in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg() -> bytes:
    """Pure cyan in CMYK (Pillow writes Adobe-style CMYK JPEG)."""
    return encode(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=95)


def png16(value: int = 32768) -> bytes:
    """A 16-bit greyscale PNG: left half ``value``, right half 65535."""
    im = Image.new("I;16", (32, 16), value)
    im.paste(Image.new("I;16", (16, 16), 65535), (16, 0))
    return encode(im, "PNG")


def palette_with_transparency() -> bytes:
    """A palette PNG: index 0 is transparent (left half), index 1 is opaque red (right half)."""
    im = Image.new("P", (32, 16), 0)
    im.putpalette([0, 0, 0, *RED] + [0, 0, 0] * 254)
    im.paste(1, (16, 0, 32, 16))
    return encode(im, "PNG", transparency=0)


def exif_rotated_with_gps() -> bytes:
    """Stored 60x40 with a red top-left block, EXIF orientation 6 (display rotated 90° CW).

    Displayed upright it is 40x60 with the red block in the top-right corner. EXIF also
    carries GPS coordinates, a camera make and a comment segment.
    """
    im = Image.new("RGB", (60, 40), WHITE)
    im.paste(RED, (0, 0, 20, 15))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretCam"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.0)
    gps[3], gps[4] = "E", (13.0, 24.0, 36.0)
    return encode(im, "JPEG", quality=95, exif=exif, comment=b"home: 52.52N 13.41E")


def srgb_tagged_png() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(photo(64, 48), "PNG", icc_profile=profile)


def polyglot_jpeg_zip() -> bytes:
    """A valid JPEG followed by a ZIP archive (opens as both)."""
    local_header = b"PK\x03\x04" + b"\x14\x00" + b"\x00" * 20 + SECRET
    return jpeg(64, 48) + local_header + b"PK\x05\x06" + b"\x00" * 18


def polyglot_jpeg_html_comment() -> bytes:
    """A JPEG whose comment segment is an HTML/JS payload."""
    return encode(photo(64, 48), "JPEG", comment=b"<script>alert(document.cookie)</script>")


def pdf_with_jpeg_inside() -> bytes:
    """A PDF that embeds a JPEG stream: must be refused as a PDF, not decoded as an image."""
    return b"%PDF-1.7\n1 0 obj\n<< /Subtype /Image >>\nstream\n" + jpeg(16, 16) + b"\nendstream"
