"""Activity images and flyers: checked by content, cleaned, stored under server-made names.

Images are decoded with Pillow and encoded again, which drops EXIF (GPS positions included)
and anything hidden after the picture data. Flyers are PDFs opened with pypdf and stored as
they came. Every stored file gets a random name; the uploader's file name is never used.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage

MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_SIDE = 1600
MAX_FLYER_PAGES = 20
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")

# The only names the media route serves: what save_* below make.
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|pdf)$")


class UploadError(Exception):
    """An uploaded file was refused; the message (bokmål) is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PreparedFile:
    """File content ready to store, with the extension it will be stored under."""

    content: bytes
    extension: str


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f}"


def prepare_image(data: bytes) -> PreparedFile:
    """Check an image by its content and re-encode it without metadata, at most 1600 px."""
    limit = current_app.config["IMAGE_MAX_BYTES"]
    if len(data) > limit:
        raise UploadError(
            _("Bildet er for stort. Største tillatte størrelse er %(mb)s MB.", mb=_megabytes(limit))
        )
    if not data:
        raise UploadError(_("Bildefilen er tom."))
    not_an_image = _("Filen er ikke et bilde vi kan bruke. Bruk JPEG, PNG eller WebP.")
    too_many_pixels = _("Bildet har for mange piksler (over 40 megapiksler). Bruk et mindre bilde.")
    with warnings.catch_warnings():
        # A decompression bomb warns before it errors; both mean no.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise UploadError(too_many_pixels)
                probe.verify()
            # verify() leaves the image unusable, so it is opened again to decode it.
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                source_format = image.format
                image.load()
                picture = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadError(too_many_pixels) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UploadError(not_an_image) from exc

    picture.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    )
    out = io.BytesIO()
    if source_format == "PNG" or has_alpha:
        if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            picture = picture.convert("RGBA" if has_alpha else "RGB")
        picture.save(out, format="PNG", optimize=True)
        return PreparedFile(out.getvalue(), "png")
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    picture.save(out, format="JPEG", quality=85, optimize=True)
    return PreparedFile(out.getvalue(), "jpg")


def prepare_flyer(data: bytes) -> PreparedFile:
    """Check that a flyer is a readable, unencrypted PDF of at most 20 pages."""
    limit = current_app.config["FLYER_MAX_BYTES"]
    if len(data) > limit:
        raise UploadError(
            _(
                "Flygebladet er for stort. Største tillatte størrelse er %(mb)s MB.",
                mb=_megabytes(limit),
            )
        )
    if not data.startswith(b"%PDF-"):
        raise UploadError(_("Flygebladet må være en PDF-fil."))
    try:
        with warnings.catch_warnings():
            # pypdf warns about small flaws it repairs; only what it cannot read is refused.
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise UploadError(
                    _("Flygebladet er kryptert eller passordbeskyttet. Last opp en vanlig PDF.")
                )
            pages = len(reader.pages)
    except UploadError:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on broken files
        raise UploadError(_("PDF-filen kan ikke leses. Den kan være skadet.")) from exc
    if pages == 0:
        raise UploadError(_("PDF-filen har ingen sider."))
    if pages > MAX_FLYER_PAGES:
        raise UploadError(
            _(
                "Flygebladet kan ha høyst %(n)s sider; denne filen har %(pages)s.",
                n=MAX_FLYER_PAGES,
                pages=pages,
            )
        )
    return PreparedFile(data, "pdf")


def upload_folder() -> Path:
    """The folder uploads are stored in, created when missing."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(prepared: PreparedFile) -> str:
    """Write prepared content under a new random name and return the name."""
    name = f"{secrets.token_hex(16)}.{prepared.extension}"
    path = upload_folder() / name
    # O_EXCL: never overwrite, even in the (practically impossible) case of a repeated name.
    with open(path, "xb") as fh:
        fh.write(prepared.content)
    return name


def save_flyer_bytes(data: bytes) -> str:
    """Check and store PDF flyer bytes; the stored file's name. Raises UploadError."""
    return store(prepare_flyer(data))


def read_limited(storage: FileStorage, limit: int) -> bytes:
    """Read an uploaded file, at most `limit` + 1 bytes so an oversized one is known as such."""
    return storage.stream.read(limit + 1)


def read_image_upload(storage: FileStorage) -> PreparedFile:
    """Read and prepare an uploaded image from a form. Raises UploadError."""
    return prepare_image(read_limited(storage, current_app.config["IMAGE_MAX_BYTES"]))


def read_flyer_upload(storage: FileStorage) -> PreparedFile:
    """Read and prepare an uploaded flyer from a form. Raises UploadError."""
    return prepare_flyer(read_limited(storage, current_app.config["FLYER_MAX_BYTES"]))


def delete_stored(name: str) -> None:
    """Remove a stored file, when its name is one of ours and it exists."""
    if STORED_NAME.fullmatch(name):
        (upload_folder() / name).unlink(missing_ok=True)
