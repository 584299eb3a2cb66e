"""Activity images and flyers: checked by content, cleaned, stored under server-made names.

Images are decoded with Pillow and encoded again, which drops EXIF (GPS positions included)
and anything hidden after the picture data. What that may cost is bounded before any pixel is
decoded, from the size and kind in the image's header: IMAGE_MAX_DECODE_BYTES of memory and
IMAGE_MAX_PIXELS (bench/image_cap.py measures the cost). Flyers are PDFs read with pypdf,
refused when they carry scripts, launch actions, attached files or an XFA form, and stored as
they came. Every stored file gets a random name; the uploader's file name is never used.

Each stored image also gets a small WebP rendition for the result cards, named after it
(card_name), so that no column records it: made when the image is stored, or on its first
request for an image stored before renditions existed, and removed with the image.
"""

from __future__ import annotations

import io
import logging
import math
import re
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import format_decimal, format_number
from werkzeug.datastructures import FileStorage

from directory.config import Defaults
from directory.i18n import gettext as _
from directory.storage import UploadStorage, content_type_of, upload_storage

if TYPE_CHECKING:
    # Pillow and pypdf are imported by the functions that decode (see _pillow): a worker
    # that serves only pages never loads them.
    from types import ModuleType

    from PIL import Image, ImageFile
    from pypdf import PdfReader

MAX_IMAGE_SIDE = 1600
MAX_FLYER_PAGES = 20
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
# zlib level of a re-encoded PNG: 3 writes a 1600-pixel photo in a tenth of the time that
# optimize=True took (0.2 s against 2.1 s), for a file about a seventh larger.
PNG_COMPRESS_LEVEL = 3

# Names that make a PDF do more than show its pages: run JavaScript (/JS, /JavaScript), start
# a program or open a file (/Launch), carry other files (/EmbeddedFile(s), /FileAttachment
# annotations, /GoToE into them), script itself as an XFA form (/XFA), or play Flash and other
# media with scripts of their own (/RichMedia). Looked for as keys and as values, anywhere.
ACTIVE_PDF_NAMES = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/FileAttachment",
        "/GoToE",
        "/XFA",
        "/RichMedia",
    }
)
# The same names as bytes in the file, for objects a repairing viewer might find where pypdf
# does not: only the long ones, which do not turn up by chance in compressed data.
ACTIVE_PDF_BYTES = re.compile(rb"/(?:JavaScript|Launch|EmbeddedFile|FileAttachment|RichMedia)")
# Ten times the objects a richly laid-out 20-page flyer has: the check reads every one, at
# some 25 µs each, so this bounds it to about half a second.
MAX_FLYER_OBJECTS = 20_000

# The only names the media route serves: what save_* below make, and the card renditions of
# the images among them (CARD_NAME; its group is the image's random part).
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|pdf)$")
CARD_NAME = re.compile(r"^([0-9a-f]{32})\.card\.webp$")
# A result card's picture box (2:1 on wide screens; phones show its middle as a small square):
# renditions are cropped to 2:1 around the middle and at most this size, never enlarged.
CARD_WIDTH, CARD_HEIGHT = 480, 240
CARD_QUALITY = 75

logger = logging.getLogger(__name__)


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


def _pillow() -> ModuleType:
    """Pillow's Image module, imported on first use, with its own guard set: it warns above
    IMAGE_MAX_PIXELS and refuses twice as many outright, in Image.open (for WebP before its
    decoder allocates). The configured limits are applied by prepare_image itself; the guard
    is the backstop."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = Defaults.IMAGE_MAX_PIXELS
    return Image


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f}"


def _too_many_pixels(max_pixels: int) -> UploadError:
    height = math.isqrt(max_pixels * 3 // 4)
    width = max_pixels // height
    return UploadError(
        _(
            "Bildet har for mange piksler. Et bilde som dette kan ha høyst %(mp)s megapiksler, "
            "for eksempel %(width)s × %(height)s. Gjør bildet mindre og prøv igjen.",
            mp=format_decimal(max_pixels / 1_000_000, format="#,##0.#"),
            width=format_number(width),
            height=format_number(height),
        )
    )


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled down to fit a `side` × `side` square, keeping its proportions."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _bytes_per_pixel(image: ImageFile.ImageFile, full_size: tuple[int, int]) -> float:
    """What decoding, scaling and re-encoding `image` takes at its peak, in bytes per pixel of
    its full size: from its header alone, after `draft` (bench/image_cap.py measures these
    figures; they are rounded up)."""
    from PIL.JpegImagePlugin import JpegImageFile

    pixels = full_size[0] * full_size[1]
    if isinstance(image, JpegImageFile):  # an MPO too: a phone's JPEG with a second picture
        # Decoded at the drafted size: 4 bytes a pixel, and about as much again while scaling.
        per_pixel = 8 * image.width * image.height / pixels
        if image.info.get("progressive"):
            # libjpeg holds every DCT coefficient of the full size (2 bytes a sample) until
            # the last scan is in, whatever the drafted size.
            layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
            most = max(h for _, h, _, _ in layers) * max(v for _, _, v, _ in layers)
            per_pixel += 2 * sum(h * v for _, h, v, _ in layers) / most
        return per_pixel
    if image.format == "WEBP":
        # libwebp's canvas and its previous frame, the decoded frame, Pillow's copy: 4 each.
        return 18
    # PNG: Pillow's pixel (1, 2 or 4 bytes) and half that again for scaling; an alpha channel
    # is scaled premultiplied, in a full-size copy.
    stored = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    return stored * (2.5 if image.mode in ("LA", "RGBA", "PA") else 1.5)


def _check_decoding_cost(image: ImageFile.ImageFile, full_size: tuple[int, int]) -> None:
    """Refuse an image whose decoding would cost more than the configured pixels or bytes."""
    config = current_app.config
    per_pixel = _bytes_per_pixel(image, full_size)
    max_pixels = min(config["IMAGE_MAX_PIXELS"], int(config["IMAGE_MAX_DECODE_BYTES"] / per_pixel))
    if full_size[0] * full_size[1] > max_pixels:
        raise _too_many_pixels(max_pixels)


def _decode_scaled(image: ImageFile.ImageFile) -> Image.Image:
    """The opened image decoded, at most MAX_IMAGE_SIDE pixels wide and high, turned upright;
    refused (UploadError) before decoding when that would cost too much."""
    from PIL import ImageOps

    full_size = image.size
    # A JPEG decodes at 1/2, 1/4 or 1/8 of its size directly (the DCT scales), as near the
    # final size as that goes: a 12-megapixel photo costs a quarter of its pixels. Other
    # formats ignore this and decode in full. Only the header has been read so far.
    image.draft(None, _fitted(full_size, MAX_IMAGE_SIDE))
    _check_decoding_cost(image, full_size)
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    image.load()
    # Turned after scaling, so that the full-size picture is never copied; the bound is a
    # square, so the order changes nothing else.
    return ImageOps.exif_transpose(image)


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
    Image = _pillow()  # the module, under its usual name
    from PIL import UnidentifiedImageError

    with warnings.catch_warnings():
        # Pillow warns from its process-wide limit on; the configured limits below decide.
        # Its error (twice that limit) is a refusal like theirs.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
                if probe.width * probe.height > current_app.config["IMAGE_MAX_PIXELS"]:
                    raise _too_many_pixels(current_app.config["IMAGE_MAX_PIXELS"])
                probe.verify()
            # verify() leaves the image unusable, so it is opened again to decode it.
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                source_format = image.format
                picture = _decode_scaled(image)
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(current_app.config["IMAGE_MAX_PIXELS"]) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UploadError(not_an_image) from exc

    has_alpha = _has_alpha(picture)
    out = io.BytesIO()
    if source_format == "PNG" or has_alpha:
        if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            picture = picture.convert("RGBA" if has_alpha else "RGB")
        picture.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        return PreparedFile(out.getvalue(), "png")
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    picture.save(out, format="JPEG", quality=85, optimize=True)
    return PreparedFile(out.getvalue(), "jpg")


def _pdf_objects(reader: PdfReader) -> Iterator[Any]:
    """The trailer and every object the PDF's cross-reference lists, those packed into
    compressed object streams too (pypdf unpacks them)."""
    from pypdf.generic import IndirectObject

    yield reader.trailer
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield IndirectObject(number, generation, reader).get_object()
    for number in reader.xref_objStm:
        yield IndirectObject(number, 0, reader).get_object()


def _pdf_names(obj: Any) -> Iterator[str]:
    """Every name in `obj` and the direct objects inside it, as keys and as values.

    References are not followed: _pdf_objects visits every indirect object by itself. Names
    come decoded (/J#61vaScript is /JavaScript), as a viewer reads them.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, NameObject):
            yield item
        elif isinstance(item, DictionaryObject):  # streams too
            for key, value in dict.items(item):  # the stored values, references unresolved
                yield key
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))


def _has_active_content(data: bytes, reader: PdfReader) -> bool:
    """Whether the PDF can run JavaScript, launch something, or carries files or XFA."""
    if ACTIVE_PDF_BYTES.search(data):
        return True
    return any(name in ACTIVE_PDF_NAMES for obj in _pdf_objects(reader) for name in _pdf_names(obj))


def prepare_flyer(data: bytes) -> PreparedFile:
    """Check that a flyer is a readable, unencrypted PDF of at most 20 pages that shows its
    pages and nothing else: no scripts, launch actions, attached files or XFA forms."""
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
    from pypdf import PdfReader

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
            objects = sum(map(len, reader.xref.values())) + len(reader.xref_objStm)
            if objects > MAX_FLYER_OBJECTS:
                raise UploadError(
                    _(
                        "PDF-filen er for sammensatt (over %(n)s objekter). Lagre den på nytt, "
                        "for eksempel med «Skriv ut» og «Lagre som PDF», og last den opp igjen.",
                        n=format_number(MAX_FLYER_OBJECTS),
                    )
                )
            # The page count first: a file with too many pages is told so, not this.
            active = pages <= MAX_FLYER_PAGES and _has_active_content(data, reader)
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
    if active:
        raise UploadError(
            _(
                "Flygebladet inneholder skript, handlinger eller vedlagte filer som kan starte "
                "noe hos den som åpner det, og slikt tar vi ikke imot. Lagre det som en vanlig "
                "PDF på nytt (for eksempel med «Skriv ut» og «Lagre som PDF»), og last det opp "
                "igjen."
            )
        )
    return PreparedFile(data, "pdf")


def store(prepared: PreparedFile) -> str:
    """Store prepared content under a new random name and return the name; an image gets its
    card rendition beside it.

    In the folder, a write that fails (a full disk) leaves no file behind and raises its
    OSError (a full disk is answered 503 by the app's fault handling); the media route, which
    serves only STORED_NAME and CARD_NAME names, never sees a file being written. In the
    database, the file is part of the caller's transaction. A rendition that cannot be made is
    not an error: the media route makes it later, or serves the image itself.
    """
    storage = upload_storage()
    name = f"{secrets.token_hex(16)}.{prepared.extension}"
    storage.put(name, prepared.content, content_type_of(name))
    card = card_name(name)
    if card is not None:
        _store_rendition(storage, name, card, prepared.content)
    return name


def _store_rendition(storage: UploadStorage, image_name: str, card: str, data: bytes) -> bool:
    """Make and store the card rendition of an image's content; False (logged) when it cannot
    be made or, in the folder, written (a full disk). A database error rises: the session is
    unusable until the request rolls it back."""
    try:
        rendition = card_rendition(data)
    except Exception:  # noqa: BLE001 - the card shows the image itself instead
        logger.warning("No card rendition for %s", image_name, exc_info=True)
        return False
    try:
        storage.put(card, rendition, content_type_of(card))
    except OSError:
        logger.warning("No card rendition for %s", image_name, exc_info=True)
        return False
    return True


def card_name(name: str) -> str | None:
    """The name of a stored image's card rendition; None for a flyer or a name not ours."""
    if not STORED_NAME.fullmatch(name) or name.endswith(".pdf"):
        return None
    return name.split(".", 1)[0] + ".card.webp"


def card_image_names(card: str) -> list[str]:
    """The names the image a card rendition was made from may have; none for a foreign name."""
    match = CARD_NAME.fullmatch(card)
    return [f"{match.group(1)}.{ext}" for ext in ("jpg", "png")] if match else []


def card_rendition(data: bytes) -> bytes:
    """A stored image (JPEG or PNG, at most MAX_IMAGE_SIDE) as a card's WebP: cropped to 2:1
    around its middle, at most CARD_WIDTH × CARD_HEIGHT, transparency kept."""
    Image = _pillow()  # the module, under its usual name
    from PIL import ImageOps

    with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as image:
        width, height = image.size
        # The largest 2:1 box the image holds, scaled down (never up) to the card's size.
        card_width = min(CARD_WIDTH, width, 2 * height)
        size = (card_width, max(1, card_width // 2))
        image.draft("RGB", size)  # a JPEG decodes at 1/2, 1/4 or 1/8 when that is enough
        picture = image.convert("RGBA" if _has_alpha(image) else "RGB")
    card = ImageOps.fit(picture, size, method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    card.save(out, format="WEBP", quality=CARD_QUALITY, method=4)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def ensure_card_rendition(image_name: str) -> str | None:
    """The name of the stored image's card rendition, made now when it is missing (an image
    stored before renditions existed); None when it cannot be made (the image is missing or
    unreadable, the disk is full): the caller serves the image itself. In the database the
    rendition is written in the session's transaction, which the caller commits."""
    card = card_name(image_name)
    if card is None:
        return None
    storage = upload_storage()
    if storage.exists(card):
        return card
    data = storage.read(image_name)
    if data is None or not _store_rendition(storage, image_name, card, data):
        return None
    return card


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
    """Remove a stored file, when its name is one of ours and it exists, with an image's card
    rendition (in the database: in the session's transaction, which the caller commits)."""
    if STORED_NAME.fullmatch(name):
        storage = upload_storage()
        storage.delete(name)
        card = card_name(name)
        if card is not None:
            storage.delete(card)
