"""Images and flyers: checked by content, cleaned of metadata, stored under server-made names,
and served only when they belong to an activity the visitor may see."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import ExifTags, Image
from sqlalchemy import select, update

from directory.activities.models import Activity
from directory.activities.uploads import (
    STORED_NAME,
    UploadError,
    prepare_image,
    save_flyer_bytes,
    store,
)
from directory.extensions import db
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


def stored(app, name: str) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / name


def stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


# --- the checks themselves -------------------------------------------------------------------


def test_jpeg_comes_back_without_exif_and_turned_the_right_way(app):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file has a position
    name = store(prepare_image(original))
    assert STORED_NAME.fullmatch(name) and name.endswith(".jpg")
    with Image.open(stored(app, name)) as after:
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
    with Image.open(stored(app, name)) as image:
        assert image.format == "PNG"


def test_webp_is_accepted_and_stored_as_jpeg(app):
    name = store(prepare_image(image_bytes("WEBP")))
    with Image.open(stored(app, name)) as image:
        assert image.format == "JPEG"


def test_big_images_are_scaled_to_1600_pixels(app):
    name = store(prepare_image(image_bytes("PNG", size=(3200, 1000), mode="L")))
    with Image.open(stored(app, name)) as image:
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
        png_header_only(10_000, 10_000),  # Pillow's bomb warning, an error here
        image_bytes("PNG", size=(8000, 6000), mode="1"),  # a real 48-megapixel image
    ],
    ids=["bomb-error", "bomb-warning", "48-megapixels"],
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
    assert not list(Path(app.config["UPLOAD_FOLDER"]).glob("*ferie*"))


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


def test_an_edit_that_loses_a_race_after_storing_its_files_removes_them(
    app, client, with_image, monkeypatch
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
