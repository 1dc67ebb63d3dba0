"""Image facts read from the file itself: width and height (from the header, before any
decoding), a refusal of decompression bombs (more pixels than the setting allows), and a
small JPEG thumbnail. Pillow works on the staged file on disk, in a worker thread."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class ImageRefused(ValueError):
    """Not an image we accept: corrupt, mislabelled, or too many pixels (a bomb)."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    thumbnail: bytes  # JPEG


def inspect_image(path: Path, mime_type: str, *, max_pixels: int, thumb_size: int) -> ImageInfo:
    """Dimensions and a thumbnail, or ImageRefused. Refuses before decoding a single pixel
    when the header announces more than `max_pixels`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                if PIL_FORMATS.get(image.format or "") != mime_type:
                    raise ImageRefused("the file's contents do not match its image type")
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageRefused("the image has no pixels")
                if width * height > max_pixels:
                    raise ImageRefused(
                        f"the image is {width}x{height} pixels, more than the "
                        f"{max_pixels:,} allowed (decompression bomb?)"
                    )
                return ImageInfo(width, height, _thumbnail(image, thumb_size))
        except UnidentifiedImageError as exc:
            raise ImageRefused("the file is not a readable image") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(
                f"the image has more pixels than the {max_pixels:,} allowed (decompression bomb?)"
            ) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, ImageRefused):
                raise
            raise ImageRefused("the image is corrupt or truncated") from exc


def _thumbnail(image: Image.Image, size: int) -> bytes:
    # In place: JPEGs decode at a reduced scale (draft), others are decoded once and shrunk.
    image.thumbnail((size, size))
    small = image.convert("RGBA") if image.mode in ("P", "LA", "PA", "RGBA", "La") else image
    if small.mode == "RGBA":
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small, mask=small.getchannel("A"))
        small = background
    elif small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()
