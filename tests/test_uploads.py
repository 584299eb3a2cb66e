"""Images and flyers: checked by content, cleaned of metadata, stored under server-made names,
and served only when they belong to an activity the visitor may see."""

from __future__ import annotations

import builtins
import errno
import functools
import io
import itertools
import os
import re
import struct
import time
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import ExifTags, Image, ImageFile
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject
from sqlalchemy import select, update

from directory.activities.models import Activity
from directory.activities.uploads import (
    STORED_NAME,
    UploadError,
    card_name,
    prepare_image,
    save_flyer_bytes,
    store,
)
from directory.extensions import db
from directory.storage import upload_storage
from tests.test_activities_manage import edit_data, field_errors, form_data

# --- test files ------------------------------------------------------------------------------


def jpeg_with_gps(size=(40, 20), orientation: int | None = 6) -> bytes:
    """A JPEG whose EXIF has a camera make, a GPS position and (optionally) an orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Kamerafabrikken"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 44.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (10.0, 12.0, 15.0)
    out = io.BytesIO()
    Image.new("RGB", size, (20, 90, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def image_bytes(fmt: str, size=(30, 20), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims huge dimensions: what a decompression bomb looks like up front."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(pages: int = 1, password: str | None = None) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Side {n + 1}")
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    return bytes(pdf.output())


class StoredUpload:
    """A stored file, in whichever storage the app keeps its uploads (folder or database)."""

    def __init__(self, name: str):
        self.name = name

    def exists(self) -> bool:
        return upload_storage().exists(self.name)

    def read_bytes(self) -> bytes:
        content = upload_storage().read(self.name)
        assert content is not None, f"{self.name} is not stored"
        return content

    def open(self) -> io.BytesIO:
        return io.BytesIO(self.read_bytes())

    def unlink(self) -> None:
        upload_storage().delete(self.name)
        db.session.commit()


def stored(app, name: str) -> StoredUpload:
    return StoredUpload(name)


def stored_files(app) -> set[str]:
    return set(upload_storage().names())


# --- the checks themselves -------------------------------------------------------------------


def test_jpeg_comes_back_without_exif_and_turned_the_right_way(app):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file has a position
    name = store(prepare_image(original))
    assert STORED_NAME.fullmatch(name) and name.endswith(".jpg")
    with Image.open(stored(app, name).open()) as after:
        assert len(after.getexif()) == 0
        assert not after.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert after.size == (20, 40)  # orientation 6 applied before the tag was dropped
    assert b"Kamerafabrikken" not in stored(app, name).read_bytes()


def test_anything_after_the_picture_data_is_dropped(app):
    name = store(prepare_image(image_bytes("PNG") + b"<script>alert(1)</script>"))
    assert b"<script>" not in stored(app, name).read_bytes()


def test_a_png_named_jpg_is_taken_by_its_content(app):
    name = store(prepare_image(image_bytes("PNG")))
    assert name.endswith(".png")
    with Image.open(stored(app, name).open()) as image:
        assert image.format == "PNG"


def test_webp_is_accepted_and_stored_as_jpeg(app):
    name = store(prepare_image(image_bytes("WEBP")))
    with Image.open(stored(app, name).open()) as image:
        assert image.format == "JPEG"


def test_big_images_are_scaled_to_1600_pixels(app):
    name = store(prepare_image(image_bytes("PNG", size=(3200, 1000), mode="L")))
    with Image.open(stored(app, name).open()) as image:
        assert image.size == (1600, 500)


@pytest.mark.parametrize(
    "data",
    [
        b"Dette er bare tekst, ikke et bilde.",
        b"",
        image_bytes("GIF"),
        image_bytes("BMP"),
        image_bytes("PNG")[:60],  # cut off
    ],
    ids=["text", "empty", "gif", "bmp", "truncated"],
)
def test_what_is_not_a_usable_image_is_refused(app, data):
    before = stored_files(app)
    with pytest.raises(UploadError) as refused:
        store(prepare_image(data))
    assert "bilde" in refused.value.message.lower()
    assert stored_files(app) == before


@pytest.mark.parametrize(
    "data",
    [
        png_header_only(100_000, 100_000),  # Pillow's own bomb error
        png_header_only(10_000, 10_000),  # over Pillow's warning limit and our cap
        image_bytes("PNG", size=(8000, 6400), mode="1"),  # a real image of 51 megapixels
    ],
    ids=["bomb-error", "bomb-warning", "51-megapixels"],
)
def test_huge_dimensions_are_refused(app, data):
    with pytest.raises(UploadError) as refused:
        store(prepare_image(data))
    assert "megapiksler" in refused.value.message


def test_an_image_over_the_size_limit_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_MAX_BYTES", 1000)
    with pytest.raises(UploadError) as refused:
        store(prepare_image(jpeg_with_gps(size=(400, 400)) + b"\0" * 1000))
    assert "for stort" in refused.value.message


def test_a_pdf_flyer_is_stored_as_it_came(app):
    data = pdf_bytes(pages=2)
    name = save_flyer_bytes(data)
    assert STORED_NAME.fullmatch(name) and name.endswith(".pdf")
    assert stored(app, name).read_bytes() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Ikke en PDF", "må være en PDF-fil"),
        (image_bytes("PNG"), "må være en PDF-fil"),
        (b"%PDF-1.7\n this is not really a PDF at all", "kan ikke leses"),
        (pdf_bytes(pages=21), "høyst 20 sider"),
        (pdf_bytes(password="hemmelig"), "kryptert"),
    ],
    ids=["text", "png", "broken", "too-many-pages", "encrypted"],
)
def test_bad_flyers_are_refused(app, data, message):
    with pytest.raises(UploadError) as refused:
        save_flyer_bytes(data)
    assert message in refused.value.message


def test_a_flyer_over_the_size_limit_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "FLYER_MAX_BYTES", 100)
    with pytest.raises(UploadError) as refused:
        save_flyer_bytes(pdf_bytes())
    assert "for stort" in refused.value.message


# --- through the organiser's form ------------------------------------------------------------


@pytest.fixture
def member_org(make_user, make_organisation, login_as):
    user = make_user()
    organisation = make_organisation(members=[user])
    login_as(user)
    return organisation


def post_new(client, organisation, **files_and_fields):
    data = form_data(**{k: v for k, v in files_and_fields.items() if k not in ("image", "flyer")})
    for key in ("image", "flyer"):
        if key in files_and_fields:
            data[key] = files_and_fields[key]
    return client.post(f"/organisations/{organisation.slug}/activities/new", data=data)


def test_form_upload_gets_server_made_names(app, client, member_org):
    response = post_new(
        client,
        member_org,
        image=(io.BytesIO(image_bytes("PNG")), "feriebilde-hjemme.jpg"),
        image_alt="Et rødt felt",
        flyer=(io.BytesIO(pdf_bytes()), "../../flygeblad.pdf"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    activity = db.session.scalars(select(Activity)).one()
    assert STORED_NAME.fullmatch(activity.image_filename)
    assert STORED_NAME.fullmatch(activity.flyer_filename)
    assert activity.image_filename.endswith(".png")  # by content, not by the .jpg name
    assert stored(app, activity.image_filename).exists()
    assert stored(app, activity.flyer_filename).exists()
    assert not [name for name in stored_files(app) if "ferie" in name]


def test_form_refuses_a_text_file_named_jpg_next_to_the_field(app, client, member_org):
    response = post_new(
        client,
        member_org,
        image=(io.BytesIO(b"hei, jeg er tekst"), "bilde.jpg"),
        image_alt="Et bilde",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "JPEG, PNG eller WebP" in field_errors(body, "image")
    assert db.session.scalars(select(Activity)).first() is None


def test_form_refuses_a_non_pdf_flyer_next_to_the_field(client, member_org):
    response = post_new(client, member_org, flyer=(io.BytesIO(b"<html></html>"), "flyer.pdf"))
    assert response.status_code == 400
    assert "må være en PDF-fil" in field_errors(response.get_data(as_text=True), "flyer")


def test_form_says_clearly_when_one_file_is_too_large(app, client, member_org, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_MAX_BYTES", 2000)
    big = image_bytes("PNG", size=(300, 300)) + b"\0" * 3000
    response = post_new(client, member_org, image=(io.BytesIO(big), "stort.png"), image_alt="x")
    assert response.status_code == 400
    assert "Bildet er for stort" in field_errors(response.get_data(as_text=True), "image")


def test_a_request_over_the_total_limit_is_413_in_norwegian(app, client, member_org, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 5000)
    response = post_new(
        client, member_org, flyer=(io.BytesIO(b"%PDF-" + b"0" * 10_000), "stor.pdf")
    )
    assert response.status_code == 413
    assert "Opplastingen er for stor." in response.get_data(as_text=True)


# --- a save that fails keeps no file ----------------------------------------------------------


@pytest.fixture
def with_image(app, client, member_org):
    """An activity saved with an image through the form."""
    response = post_new(
        client, member_org, image=(io.BytesIO(image_bytes("PNG")), "a.png"), image_alt="Et felt"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    activity = db.session.scalars(select(Activity)).one()
    assert stored(app, activity.image_filename).exists()
    return activity


def with_new_files(data: dict) -> dict:
    return {
        **data,
        "image": (io.BytesIO(image_bytes("PNG", size=(50, 40))), "nytt.png"),
        "flyer": (io.BytesIO(pdf_bytes()), "nytt.pdf"),
    }


def test_a_stale_edit_with_new_files_is_409_and_stores_no_file(app, client, with_image):
    activity = with_image
    old_image = activity.image_filename
    stale = edit_data(client, activity.id, title="Mitt gamle skjema")
    newer = edit_data(client, activity.id, title="Den andres endring")
    assert client.post(f"/activities/{activity.id}/edit", data=newer).status_code == 302
    files_before = stored_files(app)
    response = client.post(f"/activities/{activity.id}/edit", data=with_new_files(stale))
    assert response.status_code == 409
    assert stored_files(app) == files_before
    db.session.refresh(activity)
    assert (activity.title, activity.image_filename) == ("Den andres endring", old_image)
    assert stored(app, old_image).exists()


@pytest.fixture
def one_writer_at_a_time(app, monkeypatch):
    """SQLite has one writer: with the files in the database, the request holds the write lock
    when a test's other editor (in the same thread) writes. The folder keeps the race testable
    there; on PostgreSQL the storage is the configured one."""
    if db.engine.dialect.name == "sqlite":
        monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "folder")


def test_an_edit_that_loses_a_race_after_storing_its_files_removes_them(
    app, one_writer_at_a_time, client, with_image, monkeypatch
):
    """Another editor saves between this request's version check and its commit: the version
    column refuses the save with 409, after the new files were stored. They go; the files the
    activity still uses stay."""
    from directory.activities import views

    activity = with_image
    old_image = activity.image_filename
    real_update = views.update_activity

    def update_after_someone_else(target, data, *, actor):
        table = Activity.__table__
        with db.engine.begin() as other_connection:  # the other editor's save, committed
            other_connection.execute(
                update(table)
                .where(table.c.id == target.id)
                .values(version=table.c.version + 1, title="Den andres endring")
            )
        return real_update(target, data, actor=actor)

    monkeypatch.setattr(views, "update_activity", update_after_someone_else)
    data = with_new_files(edit_data(client, activity.id, title="Min endring"))
    files_before = stored_files(app)
    response = client.post(f"/activities/{activity.id}/edit", data=data)
    assert response.status_code == 409
    assert "Noen andre har endret" in response.get_data(as_text=True)
    assert stored_files(app) == files_before
    db.session.refresh(activity)
    assert (activity.title, activity.image_filename) == ("Den andres endring", old_image)
    assert stored(app, old_image).exists()


def test_a_new_activity_whose_save_fails_leaves_no_file(app, client, member_org, monkeypatch):
    from directory.activities import views

    def failing_create(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(views, "create_activity", failing_create)
    files_before = stored_files(app)
    with pytest.raises(RuntimeError):  # a 500 in production; the test client re-raises it
        post_new(
            client,
            member_org,
            image=(io.BytesIO(image_bytes("PNG")), "a.png"),
            image_alt="Et felt",
            flyer=(io.BytesIO(pdf_bytes()), "a.pdf"),
        )
    assert stored_files(app) == files_before
    assert db.session.scalars(select(Activity)).first() is None


# --- serving ---------------------------------------------------------------------------------


def test_media_of_a_public_activity_is_served_inline(app, client, make_activity):
    image = store(prepare_image(image_bytes("PNG")))
    flyer = save_flyer_bytes(pdf_bytes())
    make_activity(image_filename=image, image_alt="x", flyer_filename=flyer)
    with client.get(f"/media/{image}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"] == "inline"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == stored(app, image).read_bytes()
    with client.get(f"/media/{flyer}") as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.data.startswith(b"%PDF-")


@pytest.mark.parametrize(
    "name",
    [
        "0" * 32 + ".jpg",  # well-formed, but nobody's
        "..%2F..%2Fsecret_key",
        "..",
        "%2e%2e%2fsecret_key",
        "A" * 32 + ".jpg",
        "0" * 32 + ".exe",
        "0" * 31 + ".jpg",
        "secret_key",
        "0" * 32 + ".card.webp",  # well-formed, but of nobody's image
        "0" * 32 + ".webp",
        "0" * 32 + ".jpg.card.webp",
        "A" * 32 + ".card.webp",
        ".card.webp",
        "..%2F" + "0" * 32 + ".card.webp",
        "0" * 32 + ".card.webp.png",
    ],
)
def test_media_404s_for_unknown_and_malformed_names(app, client, name):
    (Path(app.config["UPLOAD_FOLDER"])).mkdir(parents=True, exist_ok=True)
    assert client.get(f"/media/{name}").status_code == 404


def test_a_stored_file_that_belongs_to_no_activity_is_404(client, app):
    name = store(prepare_image(image_bytes("PNG")))
    assert stored(app, name).exists()
    assert client.get(f"/media/{name}").status_code == 404


def test_files_of_a_draft_are_hidden_from_anonymous_users_but_not_from_members(
    app, client, make_activity, make_user, make_organisation, login_as
):
    member = make_user()
    organisation = make_organisation(members=[member])
    image = store(prepare_image(image_bytes("PNG")))
    flyer = save_flyer_bytes(pdf_bytes())
    make_activity(
        organisation=organisation,
        status="draft",
        image_filename=image,
        image_alt="x",
        flyer_filename=flyer,
    )
    assert client.get(f"/media/{image}").status_code == 404
    assert client.get(f"/media/{flyer}").status_code == 404
    login_as(member)
    with client.get(f"/media/{image}") as response:
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"]


def test_save_functions_refuse_in_norwegian_outside_a_request(app):
    with pytest.raises(UploadError) as refused:
        store(prepare_image(b"tekst"))
    assert re.search(r"[æøå]|ikke", refused.value.message)


# --- issue #12: the result cards' small WebP renditions --------------------------------------


def photo(size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """A picture with detail (a gradient), so that its encoding is not trivially small."""
    gradient = Image.linear_gradient("L").resize(size)
    picture = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    )
    if mode == "RGBA":
        picture.putalpha(gradient)
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def webp_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        image.load()  # decodable, not only a header
        return image.size


@pytest.mark.parametrize(
    ("source", "card_size"),
    [
        (photo((2400, 1800)), (480, 240)),  # stored at 1600 × 1200, cropped to 2:1
        (photo((900, 1600), "PNG", "RGBA"), (480, 240)),  # upright, with transparency
        (photo((300, 100)), (200, 100)),  # smaller than a card: not enlarged
    ],
    ids=["photo", "portrait-png", "small"],
)
def test_a_stored_image_gets_a_small_webp_rendition_for_the_cards(app, source, card_size):
    name = store(prepare_image(source))
    card = stored(app, card_name(name))
    assert card.name == name.split(".")[0] + ".card.webp"
    assert webp_size(card.read_bytes()) == card_size
    assert len(card.read_bytes()) < len(stored(app, name).read_bytes())


def test_a_card_rendition_is_served_as_webp_with_the_images_access(
    app, client, make_activity, make_user, make_organisation, login_as
):
    public = store(prepare_image(photo((1600, 1000))))
    make_activity(image_filename=public, image_alt="x")
    with client.get(f"/media/{card_name(public)}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.data == stored(app, card_name(public)).read_bytes()

    member = make_user()
    draft = store(prepare_image(photo((800, 400))))
    make_activity(
        organisation=make_organisation(members=[member]),
        status="draft",
        image_filename=draft,
        image_alt="x",
    )
    assert client.get(f"/media/{card_name(draft)}").status_code == 404
    login_as(member)
    with client.get(f"/media/{card_name(draft)}") as response:
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"]


def test_an_image_stored_before_renditions_gets_one_on_its_first_request(
    app, client, make_activity
):
    name = store(prepare_image(photo((1200, 900), "PNG")))
    stored(app, card_name(name)).unlink()  # as for an image stored before this change
    make_activity(image_filename=name, image_alt="x")

    with client.get(f"/media/{card_name(name)}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert webp_size(response.data) == (480, 240)
    assert stored(app, card_name(name)).read_bytes() == response.data
    assert not [f for f in stored_files(app) if f.endswith(".part")]


def test_a_card_whose_rendition_cannot_be_made_shows_the_image_itself(app, client, make_activity):
    name = "0123456789abcdef0123456789abcdef.png"
    upload_storage().put(name, b"\x89PNG\r\n\x1a\n not a picture after all", "image/png")
    make_activity(image_filename=name, image_alt="x")
    files_before = stored_files(app)

    with client.get(f"/media/{card_name(name)}") as response:
        assert response.status_code == 200
        assert response.data == stored(app, name).read_bytes()
    assert stored_files(app) == files_before  # nothing half-made left behind


def test_replacing_or_removing_an_image_removes_its_rendition(app, client, with_image):
    activity = with_image
    first = activity.image_filename
    others = stored_files(app) - {first, card_name(first)}
    assert stored(app, card_name(first)).exists()

    data = edit_data(client, activity.id)
    data["image"] = (io.BytesIO(photo((600, 400))), "nytt.jpg")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    db.session.refresh(activity)
    second = activity.image_filename
    assert stored_files(app) == others | {second, card_name(second)}

    data = edit_data(client, activity.id, remove_image="y")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    assert stored_files(app) == others


def test_a_flyer_has_no_card_rendition(app, client, make_activity):
    flyer = save_flyer_bytes(pdf_bytes())
    make_activity(flyer_filename=flyer)
    assert card_name(flyer) is None
    assert client.get(f"/media/{flyer.split('.')[0]}.card.webp").status_code == 404


# --- issue #11, finding 6: what an upload may cost, and what a flyer may carry ----------------


@functools.cache
def small_png_of_many_pixels(width: int = 7300, height: int = 5450) -> bytes:
    """A PNG of about 40 megapixels in about 150 KB: one colour with a stripe every 64 rows.

    Written row by row through zlib, so that making it costs neither the memory nor the time
    that decoding it would.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    plain = b"\x00" + bytes(width * 3)
    stripe = b"\x00" + (bytes(range(256)) * (width * 3 // 256 + 1))[: width * 3]
    packer = zlib.compressobj(9)
    rows = [packer.compress(stripe if row % 64 == 0 else plain) for row in range(height)]
    rows.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(rows))
        + chunk(b"IEND", b"")
    )


def test_a_small_png_of_40_megapixels_is_refused_quickly_with_a_message(
    app, client, member_org, monkeypatch
):
    """154 KB that decode to 40 megapixels cost a worker 10.8 s and 633 MB: the size in the
    file's header is enough to say no, before any pixel is decoded."""
    data = small_png_of_many_pixels()
    assert len(data) < 200_000
    before = stored_files(app)
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: decoded.append(image.size) or real_load(image)
    )
    started = time.perf_counter()
    response = post_new(
        client, member_org, image=(io.BytesIO(data), "plakat.png"), image_alt="En plakat"
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    message = field_errors(response.get_data(as_text=True), "image")
    assert "for mange piksler" in message and "megapiksler" in message
    assert (7300, 5450) not in decoded
    assert elapsed < 1.0
    assert db.session.scalars(select(Activity)).first() is None
    assert stored_files(app) == before


def test_the_pixel_cap_is_the_configured_one(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_MAX_PIXELS", 1200 * 1000)
    store(prepare_image(image_bytes("PNG", size=(1200, 1000), mode="L")))
    with pytest.raises(UploadError) as refused:
        prepare_image(image_bytes("PNG", size=(1201, 1000), mode="L"))
    assert "høyst 1,2 megapiksler" in refused.value.message


def phone_photo(fmt: str, size=(5712, 4284)) -> bytes:
    """A photo as a phone writes it: 24 megapixels; as MPO with a second, small picture."""
    out = io.BytesIO()
    photo = Image.new("RGB", size, (90, 140, 60))
    if fmt == "MPO":
        photo.save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (320, 240))])
    else:
        photo.save(out, fmt)
    return out.getvalue()


def test_the_cap_follows_what_decoding_costs_a_phone_photo_fits_a_webp_as_large_does_not(
    app, monkeypatch
):
    """A 24-megapixel JPEG decodes at a quarter of its pixels, a WebP of half as many in full,
    and in copies: the first costs a worker some 45 MB, the second over 200 MB."""
    for fmt in ("JPEG", "MPO"):
        data = phone_photo(fmt)
        with Image.open(io.BytesIO(data)) as original:
            assert original.format == fmt
        name = store(prepare_image(data))
        with Image.open(stored(app, name).open()) as image:
            assert (image.format, image.size) == ("JPEG", (1600, 1200))
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: decoded.append(image.size) or real_load(image)
    )
    with pytest.raises(UploadError) as refused:
        prepare_image(image_bytes("WEBP", size=(4032, 3024)))
    assert "høyst 5,8 megapiksler" in refused.value.message
    assert decoded == []


def test_the_memory_budget_is_the_configured_one(app, monkeypatch):
    # A plain RGB PNG costs 6 bytes a pixel: 1.2 megapixels in 7.2 MB.
    monkeypatch.setitem(app.config, "IMAGE_MAX_DECODE_BYTES", 7_200_000)
    store(prepare_image(image_bytes("PNG", size=(1200, 1000))))
    with pytest.raises(UploadError) as refused:
        prepare_image(image_bytes("PNG", size=(1200, 1001)))
    assert "høyst 1,2 megapiksler" in refused.value.message


def clean_pdf_writer() -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def action(kind: str, **entries) -> DictionaryObject:
    """A PDF action dictionary: /S kind, and the entries given (names without the slash)."""
    return DictionaryObject(
        {NameObject("/S"): NameObject(kind)}
        | {NameObject(f"/{key}"): value for key, value in entries.items()}
    )


def pdf_with_open_action(act: DictionaryObject) -> bytes:
    """A one-page flyer that runs `act` when it is opened."""
    writer = clean_pdf_writer()
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(act)
    return written(writer)


def pdf_with_link(act: DictionaryObject) -> bytes:
    """A one-page flyer with a link area that runs `act` when clicked."""
    writer = clean_pdf_writer()
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (0, 0, 200, 200)]),
            NameObject("/A"): act,
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return written(writer)


def pdf_with_document_javascript() -> bytes:
    writer = clean_pdf_writer()
    writer.add_open_action(JavaScript("app.alert('Hei');"))
    return written(writer)


def pdf_with_embedded_file() -> bytes:
    writer = clean_pdf_writer()
    writer.add_attachment("invitasjon.exe", b"MZ not really a program")
    return written(writer)


def pdf_with_xfa_form() -> bytes:
    writer = clean_pdf_writer()
    form = DictionaryObject(
        {
            NameObject("/Fields"): ArrayObject(),
            NameObject("/XFA"): TextStringObject("<xdp:xdp/>"),
        }
    )
    writer._root_object[NameObject("/AcroForm")] = writer._add_object(form)
    return written(writer)


def pdf_with_javascript_in_an_object_stream() -> bytes:
    """JavaScript run on opening, in a compressed object stream with its names spelled with
    #-escapes (/J#61vaScript is /JavaScript): no byte of the file says "JavaScript" or "/JS"."""
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R /OpenAction 5 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>",
        b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
    ]
    offsets, body = [], b""
    for number, obj in enumerate(objects, start=2):
        offsets.append(b"%d %d" % (number, len(body)))
        body += obj + b"\n"
    index = b" ".join(offsets) + b"\n"
    packed = zlib.compress(index + body)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    object_stream_at = len(out)
    out += b"1 0 obj\n<< /Type /ObjStm /N 4 /First %d /Filter /FlateDecode /Length %d >>\n" % (
        len(index),
        len(packed),
    )
    out += b"stream\n" + packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    entries = (
        [struct.pack(">BIH", 0, 0, 65535), struct.pack(">BIH", 1, object_stream_at, 0)]
        + [struct.pack(">BIH", 2, 1, n) for n in range(len(objects))]
        + [struct.pack(">BIH", 1, xref_at, 0)]
    )
    xref = b"".join(entries)
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 2 0 R /Length %d >>\n" % len(xref)
    out += b"stream\n" + xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    data = bytes(out)
    assert b"JavaScript" not in data and b"/JS" not in data
    return data


RISKY_FLYERS = {
    "javascript-on-open": lambda: pdf_with_open_action(
        action("/JavaScript", JS=TextStringObject("app.alert(1)"))
    ),
    "document-javascript": pdf_with_document_javascript,
    "javascript-link": lambda: pdf_with_link(
        action("/JavaScript", JS=TextStringObject("app.launchURL('http://evil.example')"))
    ),
    "javascript-in-object-stream": pdf_with_javascript_in_an_object_stream,
    "launch-action": lambda: pdf_with_open_action(action("/Launch", F=TextStringObject("cmd.exe"))),
    "launch-link": lambda: pdf_with_link(action("/Launch", F=TextStringObject("cmd.exe"))),
    "embedded-file": pdf_with_embedded_file,
    "xfa-form": pdf_with_xfa_form,
}


@pytest.mark.parametrize("make", RISKY_FLYERS.values(), ids=RISKY_FLYERS.keys())
def test_a_flyer_with_scripts_launch_actions_or_attached_files_is_refused(app, make):
    data = make()
    assert len(PdfReader(io.BytesIO(data)).pages) == 1  # a PDF a viewer would open
    before = stored_files(app)
    with pytest.raises(UploadError) as refused:
        save_flyer_bytes(data)
    assert "skript, handlinger eller vedlagte filer" in refused.value.message
    assert stored_files(app) == before


def test_the_form_refuses_a_flyer_with_javascript_next_to_the_field(app, client, member_org):
    data = pdf_with_open_action(action("/JavaScript", JS=TextStringObject("app.alert(1)")))
    before = stored_files(app)
    response = post_new(client, member_org, flyer=(io.BytesIO(data), "flygeblad.pdf"))
    assert response.status_code == 400
    assert "skript, handlinger eller vedlagte filer" in field_errors(
        response.get_data(as_text=True), "flyer"
    )
    assert db.session.scalars(select(Activity)).first() is None
    assert stored_files(app) == before


def test_the_form_refuses_a_malformed_pdf_with_a_message(app, client, member_org):
    garbled = pdf_bytes()[:40] + bytes(range(256)) * 8
    before = stored_files(app)
    response = post_new(client, member_org, flyer=(io.BytesIO(garbled), "flygeblad.pdf"))
    assert response.status_code == 400
    assert "kan ikke leses" in field_errors(response.get_data(as_text=True), "flyer")
    assert stored_files(app) == before


def pdf_with_many_objects(count: int) -> bytes:
    """A one-page PDF with `count` small objects besides its catalog, page tree and page."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ] + [b"<< /N %d >>" % n for n in range(count)]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def test_a_flyer_of_too_many_objects_to_check_is_refused(app):
    save_flyer_bytes(pdf_with_many_objects(100))
    with pytest.raises(UploadError) as refused:
        save_flyer_bytes(pdf_with_many_objects(20_000))
    assert "for sammensatt" in refused.value.message


def test_a_clean_flyer_with_a_web_link_is_stored(app):
    link = action("/URI", URI=TextStringObject("https://fotball.example/pamelding"))
    data = pdf_with_link(link)
    assert stored(app, save_flyer_bytes(data)).read_bytes() == data


def test_a_flyer_is_served_as_a_download_never_inline_on_the_sites_origin(
    app, client, make_activity
):
    """Even a PDF that passed the checks is not rendered by the browser as a page of this site:
    it is saved and opened in the parent's own PDF viewer (the activity page's link says
    "Last ned flygeblad")."""
    flyer = save_flyer_bytes(pdf_bytes())
    make_activity(flyer_filename=flyer)
    with client.get(f"/media/{flyer}") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="flygeblad.pdf"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == stored(app, flyer).read_bytes()


# --- issue #11, finding 8: a full disk leaves no file behind -----------------------------------


class _FullDisk:
    """A file whose every write fails as on a full disk: the file itself was created."""

    def __init__(self, file, code: int):
        self._file = file
        self._code = code

    def write(self, data):
        raise OSError(self._code, os.strerror(self._code))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._file.close()

    def __getattr__(self, name):
        return getattr(self._file, name)


def disk_full_from(monkeypatch, nth_file: int, code: int = errno.ENOSPC) -> None:
    """Files the upload code opens for writing fail to be written from the nth on (uploads
    kept in the folder: a full disk is the folder's failure)."""
    from flask import current_app

    from directory import storage as uploads

    monkeypatch.setitem(current_app.config, "UPLOAD_STORAGE", "folder")

    opened = itertools.count(1)

    def open_on_a_filling_disk(file, mode="r", *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in "wxa") and next(opened) >= nth_file:
            return _FullDisk(handle, code)
        return handle

    monkeypatch.setattr(uploads, "open", open_on_a_filling_disk, raising=False)


def test_a_full_disk_while_storing_leaves_no_file(app, monkeypatch):
    disk_full_from(monkeypatch, 1)
    before = stored_files(app)
    with pytest.raises(OSError) as failed:
        store(prepare_image(image_bytes("PNG")))
    assert failed.value.errno == errno.ENOSPC
    assert stored_files(app) == before


@pytest.mark.parametrize(
    ("nth_file", "code"),
    [(1, errno.ENOSPC), (2, errno.ENOSPC), (2, errno.EDQUOT)],
    ids=["image-fails", "flyer-fails-after-the-image", "quota"],
)
def test_a_full_disk_during_an_upload_is_503_and_leaves_no_file(
    app, client, member_org, monkeypatch, nth_file, code
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    disk_full_from(monkeypatch, nth_file, code)
    before = stored_files(app)
    response = post_new(
        client,
        member_org,
        image=(io.BytesIO(image_bytes("PNG")), "a.png"),
        image_alt="Et felt",
        flyer=(io.BytesIO(pdf_bytes()), "a.pdf"),
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Tjenesten er midlertidig utilgjengelig." in response.get_data(as_text=True)
    assert stored_files(app) == before
    assert db.session.scalars(select(Activity)).first() is None
