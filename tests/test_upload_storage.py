"""Uploads stored where every host finds them: the folder (one host) or the database (several
hosts on one database), served alike, moved between them with `flask move-uploads`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from directory import create_app
from directory.activities.models import Activity
from directory.activities.uploads import card_name
from directory.extensions import db
from directory.storage import DatabaseStorage, FolderStorage, upload_storage
from directory.storage.models import StoredFile
from tests.conftest import login
from tests.test_activities_manage import edit_data, form_data
from tests.test_uploads import pdf_bytes

STORAGES = ["folder", "database"]


def fetch(client, url: str, **kwargs):
    """GET `url`, its body read and the file behind it closed."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def png(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=STORAGES)
def storage_kind(request, app, monkeypatch) -> str:
    """The test runs with the uploads in the folder, then in the database."""
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", request.param)
    return request.param


@pytest.fixture
def organiser(make_user, make_organisation, client):
    user = make_user()
    organisation = make_organisation(members=[user])
    assert login(client, user).status_code == 302
    return organisation


def post_new_activity(client, organisation, **files):
    data = form_data(image_alt="Et rødt felt")
    data.update(
        {key: (io.BytesIO(content), filename) for key, (content, filename) in files.items()}
    )
    return client.post(f"/organisations/{organisation.slug}/activities/new", data=data)


def test_the_default_is_the_database_on_postgresql_and_the_folder_otherwise(tmp_path):
    def storage_for(uri: str, **config) -> str:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": uri,
                "SECRET_KEY": "x",
                "TESTING": True,
                "UPLOAD_FOLDER": str(tmp_path / "u"),
                "SEARCH_INDEX_DIR": str(tmp_path / "s"),
                **config,
            }
        )
        return app.config["UPLOAD_STORAGE"]

    assert storage_for("postgresql://u@db.example/directory") == "database"
    assert storage_for("postgres://u@db.example/directory") == "database"
    assert storage_for(f"sqlite:///{tmp_path / 'd.sqlite3'}") == "folder"
    assert storage_for("postgresql://u@db/d", UPLOAD_STORAGE="folder") == "folder"
    with pytest.raises(RuntimeError, match="UPLOAD_STORAGE='s3'.*database, folder"):
        storage_for(f"sqlite:///{tmp_path / 'd.sqlite3'}", UPLOAD_STORAGE="s3")


def test_the_environment_chooses_the_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTORY_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'd.sqlite3'}")
    monkeypatch.setenv("DIRECTORY_UPLOAD_STORAGE", "database")
    assert create_app().config["UPLOAD_STORAGE"] == "database"


@pytest.fixture
def host_b(app, storage_kind, make_app, tmp_path):
    """A second host: its own instance and upload folder, the same database and storage (made
    before the test's rows: building it empties the shared database)."""
    return make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        UPLOAD_STORAGE=storage_kind,
        UPLOAD_FOLDER=str(tmp_path / "b-uploads"),
    )


def test_an_image_uploaded_on_one_host_is_served_by_another_alike(
    app, storage_kind, host_b, client, organiser
):
    """With the uploads in the database, host B serves host A's image and card with the same
    headers, ETag and 304s; with the folder it has none of them (the folder is for one host)."""
    response = post_new_activity(client, organiser, image=(png(), "bilde.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    activity = db.session.scalars(select(Activity)).one()
    activity.status = "published"
    db.session.commit()
    image = activity.image_filename
    visitor_a, visitor_b = app.test_client(), host_b.test_client()

    for name, mimetype in ((image, "image/png"), (card_name(image), "image/webp")):
        a = fetch(visitor_a, f"/media/{name}")
        b = fetch(visitor_b, f"/media/{name}")
        assert a.status_code == 200
        assert a.mimetype == mimetype
        if storage_kind == "folder":
            assert b.status_code == 404  # B's folder has nothing: one host only
            continue
        assert b.status_code == 200
        assert b.data == a.data
        for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
            assert a.headers[header] == b.headers[header], header
        assert a.headers["Cache-Control"] == b.headers["Cache-Control"] == "public, max-age=3600"
        assert a.headers["Content-Disposition"] == b.headers["Content-Disposition"] == "inline"
        again = fetch(visitor_b, f"/media/{name}", headers={"If-None-Match": a.headers["ETag"]})
        assert again.status_code == 304
        assert not again.data
        since = fetch(
            visitor_a, f"/media/{name}", headers={"If-Modified-Since": a.headers["Last-Modified"]}
        )
        assert since.status_code == 304


def test_both_storages_answer_a_flyer_alike(app, storage_kind, make_activity, client):
    from directory.activities.uploads import save_flyer_bytes

    data = pdf_bytes()
    flyer = save_flyer_bytes(data)
    make_activity(flyer_filename=flyer)
    response = fetch(client, f"/media/{flyer}")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="flygeblad.pdf"'
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Accept-Ranges"] == "bytes"
    part = fetch(client, f"/media/{flyer}", headers={"Range": "bytes=0-4"})
    assert part.status_code == 206
    assert part.data == b"%PDF-"
    again = fetch(client, f"/media/{flyer}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_draft_image_is_private_in_both_storages(
    app, storage_kind, client, organiser, make_activity
):
    from directory.activities.uploads import prepare_image, store

    image = store(prepare_image(png()))
    make_activity(organisation=organiser, status="draft", image_filename=image, image_alt="x")
    response = fetch(client, f"/media/{image}")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert fetch(app.test_client(), f"/media/{image}").status_code == 404


def test_a_save_that_fails_leaves_no_stored_file_in_the_database(
    app, client, organiser, monkeypatch
):
    """The files are written in the save's transaction: its rollback takes them too."""
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "database")
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def fail(*args, **kwargs):
        raise RuntimeError("the save fails after the files were stored")

    monkeypatch.setattr("directory.activities.views.create_activity", fail)
    response = post_new_activity(
        client, organiser, image=(png(), "bilde.png"), flyer=(pdf_bytes(), "f.pdf")
    )
    assert response.status_code == 500
    assert db.session.scalars(select(StoredFile.name)).all() == []
    assert db.session.scalar(select(Activity.id)) is None


def test_replacing_an_image_removes_the_old_one_from_the_database(
    app, client, organiser, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "database")
    assert post_new_activity(client, organiser, image=(png(), "a.png")).status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    first = activity.image_filename
    data = edit_data(client, activity.id)
    data["image"] = (io.BytesIO(png(colour=(0, 0, 200))), "b.png")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    db.session.refresh(activity)
    second = activity.image_filename
    assert set(db.session.scalars(select(StoredFile.name))) == {second, card_name(second)}
    assert first != second


def test_a_card_missing_from_the_database_is_made_and_kept_on_its_first_request(
    app, make_activity, client, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "database")
    from directory.activities.uploads import prepare_image, store

    image = store(prepare_image(png((900, 600))))
    upload_storage().delete(card_name(image))  # as for an image moved in before renditions
    make_activity(image_filename=image, image_alt="x")
    response = fetch(client, f"/media/{card_name(image)}")
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert upload_storage().read(card_name(image)) == response.data


# --- flask move-uploads --------------------------------------------------------------------


def move(app, *args: str):
    result = app.test_cli_runner().invoke(args=["move-uploads", *args])
    db.session.expire_all()
    return result


@pytest.fixture
def folder(app, tmp_path, monkeypatch) -> FolderStorage:
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    return FolderStorage(tmp_path / "uploads")


def test_move_uploads_to_the_database_and_back_is_idempotent(app, folder, monkeypatch):
    names = ["0123456789abcdef0123456789abcdef.png", "0123456789abcdef0123456789abcdef.card.webp"]
    names.append("fedcba9876543210fedcba9876543210.pdf")
    for name in names:
        folder.put(name, name.encode(), "x")
    folder.put("notater.txt", b"not ours", "text/plain")

    result = move(app, "--to", "database")
    assert result.exit_code == 0, result.output
    assert "3 filer kopiert fra mappen" in result.output
    assert "1 filer med navn appen ikke lager" in result.output
    assert "--delete-source" in result.output
    database = DatabaseStorage()
    assert list(database.names()) == sorted(names)
    assert database.read(names[2]) == names[2].encode()
    assert database.get(names[2]).content_type == "application/pdf"
    assert set(folder.names()) == {*names, "notater.txt"}  # the source is kept

    again = move(app, "--to", "database")
    assert again.exit_code == 0, again.output
    assert "0 filer kopiert" in again.output
    assert "3 filer fantes der allerede" in again.output

    result = move(app, "--to", "database", "--delete-source")
    assert result.exit_code == 0, result.output
    assert "3 filer slettet fra mappen" in result.output
    assert list(folder.names()) == ["notater.txt"]

    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "database")
    result = move(app, "--to", "folder", "--delete-source")
    assert result.exit_code == 0, result.output
    assert "3 filer kopiert fra databasen" in result.output
    assert "DIRECTORY_UPLOAD_STORAGE=folder" in result.output  # the app still reads the database
    assert list(database.names()) == []
    assert (Path(app.config["UPLOAD_FOLDER"]) / names[0]).read_bytes() == names[0].encode()


@pytest.mark.parametrize(
    "args", [(), ("--to", "s3"), ("--to",), ("--to", "")], ids=["none", "unknown", "empty", "blank"]
)
def test_move_uploads_refuses_bad_arguments_with_status_1(app, folder, args):
    folder.put("0123456789abcdef0123456789abcdef.png", b"x", "image/png")
    result = move(app, *args)
    assert result.exit_code == 1, result.output
    assert "--to må være database eller folder" in result.output or (
        "'--to' requires an argument" in result.output
    )
    assert "Bruk: flask move-uploads --to database|folder" in result.output
    assert list(DatabaseStorage().names()) == []


def test_backup_says_the_uploads_are_in_the_database(app, tmp_path, monkeypatch):
    import shutil

    if db.engine.dialect.name == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("the test database is PostgreSQL and pg_dump is not on PATH")
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "database")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    DatabaseStorage().put("0123456789abcdef0123456789abcdef.pdf", b"%PDF-1.4", "application/pdf")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "kopi.db")])
    assert result.exit_code == 0, result.output
    assert "De opplastede filene (1) ligger i databasen og er med i kopien" in result.output
    assert not (tmp_path / "kopi.db.uploads.tar.gz").exists()
