"""Setting up a municipality from the command line: init-db, create-municipality, create-admin,
import-schools, and the categories API they feed. Every refusal exits 1 with a message in
bokmål and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from directory import create_app
from directory.accounts.models import User
from directory.accounts.operations import check_password
from directory.activities.categories import STANDARD_CATEGORIES
from directory.activities.models import Category
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import ChannelPolicy, Municipality, School, SchoolGradeCount

GOOD_PASSWORD = "fire ord som ingen gjetter"  # noqa: S105 - a test account


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def refused(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr


# --- init-db and the standard categories ------------------------------------------------------


@pytest.fixture
def no_migrations(monkeypatch):
    """The test database is built from the models; init-db's upgrade has nothing to do here."""
    monkeypatch.setattr("flask_migrate.upgrade", lambda *args, **kwargs: None)


def test_init_db_creates_the_standard_categories_once(app, no_migrations):
    first = run(app, "init-db")
    assert first.exit_code == 0, first.output
    assert "10 standardkategorier er opprettet" in first.output
    names = {
        c.slug: (c.name_nb, c.name_nn, c.name_en) for c in db.session.scalars(select(Category))
    }
    assert names["teknologi-og-spill"] == (
        "Teknologi og spill",
        "Teknologi og spel",
        "Technology and games",
    )
    assert len(names) == len(STANDARD_CATEGORIES) == 10

    again = run(app, "init-db")
    assert again.exit_code == 0, again.output
    assert "Kategoriene finnes allerede" in again.output
    assert count(Category) == 10


def test_init_db_leaves_a_directory_with_its_own_categories_alone(
    app, no_migrations, make_category
):
    make_category(slug="sjakk", name_nb="Sjakk")
    result = run(app, "init-db")
    assert result.exit_code == 0, result.output
    assert list(db.session.scalars(select(Category.slug))) == ["sjakk"]


# --- the categories API ------------------------------------------------------------------------


def test_the_categories_api_lists_visible_categories_in_the_language_asked_for(
    app, client, make_category
):
    make_category(slug="idrett", name_nb="Idrett", name_nn="Idrett", name_en="Sports")
    make_category(
        slug="teknologi",
        name_nb="Teknologi og spill",
        name_nn="Teknologi og spel",
        name_en="Games and technology",
    )
    make_category(slug="gammel", name_nb="Gammel", name_nn="Gamal", name_en="Old", hidden=True)

    body = client.get("/api/v1/categories").get_json()
    assert body == {
        "items": [
            {
                "slug": "idrett",
                "name": "Idrett",
                "names": {"nb": "Idrett", "nn": "Idrett", "en": "Sports"},
            },
            {
                "slug": "teknologi",
                "name": "Teknologi og spill",
                "names": {
                    "nb": "Teknologi og spill",
                    "nn": "Teknologi og spel",
                    "en": "Games and technology",
                },
            },
        ]
    }
    english = client.get("/api/v1/categories?lang=en").get_json()["items"]
    assert [(c["slug"], c["name"]) for c in english] == [
        ("teknologi", "Games and technology"),
        ("idrett", "Sports"),
    ]
    nynorsk = client.get("/api/v1/categories?lang=nn").get_json()["items"]
    assert [c["name"] for c in nynorsk] == ["Idrett", "Teknologi og spel"]


# --- create-municipality ------------------------------------------------------------------------


def test_create_municipality_with_the_default_policy(app):
    result = run(
        app,
        "create-municipality",
        "nord-aurdal",
        "--name",
        "Nord-Aurdal",
        "--messaging-label",
        "Transponder",
        "--org-number",
        "964 949 581",
        "--contact-email",
        "Postmottak@Nord-Aurdal.example",
    )
    assert result.exit_code == 0, result.output
    assert "Nord-Aurdal (nord-aurdal) er opprettet" in result.output
    municipality = db.session.scalar(select(Municipality))
    assert (municipality.slug, municipality.name, municipality.messaging_label) == (
        "nord-aurdal",
        "Nord-Aurdal",
        "Transponder",
    )
    assert municipality.org_number == "964949581"
    assert municipality.contact_email == "postmottak@nord-aurdal.example"
    policy = db.session.scalar(select(ChannelPolicy))
    assert (policy.municipality_id, policy.school_id) == (municipality.id, None)
    assert policy.settings["backpack_weekly_quota"] == 2
    assert actions() == ["municipality.create"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["drammen", "--name", "Drammen igjen"],
            "kortnavnet «drammen» er allerede i bruk av Drammen",
        ),
        (["Nord Aurdal", "--name", "Nord-Aurdal"], "kan bare ha små bokstaver a–z"),
        (
            ["nord-aurdal", "--name", "Nord-Aurdal", "--org-number", "964949582"],
            "ikke et gyldig organisasjonsnummer",
        ),
        (
            ["nord-aurdal", "--name", "Nord-Aurdal", "--org-number", "12345"],
            "ikke et gyldig organisasjonsnummer",
        ),
        (["nord-aurdal", "--name", "  "], "--name må ha fra 1 til 120 tegn"),
        (
            ["nord-aurdal", "--name", "Nord-Aurdal", "--contact-email", "post"],
            "ikke en gyldig e-postadresse",
        ),
    ],
)
def test_create_municipality_refuses_bad_arguments(app, municipality, args, message):
    result = run(app, "create-municipality", *args)
    refused(result, message)
    assert count(Municipality) == 1
    assert count(ChannelPolicy) == 0
    assert actions() == []


# --- create-admin -------------------------------------------------------------------------------


def test_create_admin_reads_the_password_from_standard_input(app, municipality):
    result = run(
        app,
        "create-admin",
        "Kari@Drammen.example",
        "--municipality",
        "drammen",
        "--name",
        "Kari Kommune",
        "--password-stdin",
        input=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "kari@drammen.example er kommuneadministrator for Drammen" in result.output
    user = db.session.scalar(select(User))
    assert user.admin_municipality_id == municipality.id
    assert user.name == "Kari Kommune"
    assert check_password(user, GOOD_PASSWORD)
    assert actions() == ["user.make_admin"]


def test_create_admin_makes_an_existing_user_admin_without_changing_the_password(
    app, municipality, make_user
):
    from tests.conftest import PASSWORD

    user = make_user("lise@drammen.example")
    result = run(
        app,
        "create-admin",
        "lise@drammen.example",
        "--password-stdin",
        input=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "passordet er ikke endret" in result.output
    db.session.expire_all()
    assert user.admin_municipality_id == municipality.id
    assert check_password(user, PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["a@drammen.example", "--municipality", "atlantis"],
            GOOD_PASSWORD,
            "ukjent kommune «atlantis»",
        ),
        (["a@drammen.example"], "", "standard inn er tom"),
        (["a@drammen.example"], "\n", "standard inn er tom"),
        (["a@drammen.example"], "kort\n", "minst 10 tegn"),
        (["a@drammen.example"], "password123\n", "blant de mest brukte"),
        (
            ["kari.nordmann@drammen.example", "--name", "Kari Nordmann"],
            "kari.nordmann@drammen.example\n",
            "e-postadressen din",
        ),
        (["ikke-en-adresse"], GOOD_PASSWORD, "«ikke-en-adresse» er ikke en gyldig e-postadresse"),
    ],
)
def test_create_admin_refusals(app, municipality, args, stdin, message):
    result = run(app, "create-admin", *args, "--password-stdin", input=stdin)
    refused(result, message)
    assert count(User) == 0
    assert actions() == []


def test_create_admin_takes_one_password_source(app, municipality):
    result = run(
        app,
        "create-admin",
        "a@drammen.example",
        "--password",
        GOOD_PASSWORD,
        "--password-stdin",
        input=GOOD_PASSWORD,
    )
    refused(result, "enten --password eller --password-stdin")
    assert count(User) == 0


# --- import-schools -----------------------------------------------------------------------------

HEADER = (
    "name,slug,org_number,grade_min,grade_max,area,address,latitude,longitude,"
    "facebook_page_url,accepts_backpack_post,grade_counts"
)
FJELL = (
    'Fjell skole,,974600951,1,7,Fjell,"Fjellsvingen 1, 3034 Drammen",59.7318,10.1869,'
    "https://www.facebook.com/fjellskole,ja,1:2:48;2:2:45"
)
UNGDOM = "Drammen ungdomsskole,dus,,8,10,Sentrum,Skoleveien 2,,,,nei,"
SCHOOLS_CSV = "\n".join([HEADER, FJELL, UNGDOM]) + "\n"


def import_schools(app, tmp_path, text: str | bytes, *options: str, slug: str = "drammen"):
    path = tmp_path / "skoler.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return run(app, "import-schools", str(path), "--municipality", slug, *options)


def schools() -> dict[str, School]:
    db.session.expire_all()
    return {s.slug: s for s in db.session.scalars(select(School))}


def test_import_schools_creates_the_schools_with_their_counts(app, municipality, tmp_path):
    result = import_schools(app, tmp_path, SCHOOLS_CSV)
    assert result.exit_code == 0, result.output
    assert "Skoler importert til Drammen: 2 nye, 0 endret, 0 uendret." in result.output
    found = schools()
    fjell, ungdom = found["fjell-skole"], found["dus"]
    assert (fjell.name, fjell.org_number, fjell.grades) == (
        "Fjell skole",
        "974600951",
        list(range(1, 8)),
    )
    assert (fjell.latitude, fjell.longitude) == (59.7318, 10.1869)
    assert fjell.address == "Fjellsvingen 1, 3034 Drammen"
    assert fjell.accepts_backpack_post is True
    assert [(c.grade, c.classes, c.pupils) for c in fjell.grade_counts] == [(1, 2, 48), (2, 2, 45)]
    assert (ungdom.grades, ungdom.accepts_backpack_post, ungdom.facebook_page_url) == (
        [8, 9, 10],
        False,
        None,
    )
    assert ungdom.grade_counts == []
    assert actions() == ["school.create", "school.create", "import.schools"]


def test_reimporting_updates_and_never_duplicates(app, municipality, tmp_path):
    assert import_schools(app, tmp_path, SCHOOLS_CSV).exit_code == 0
    again = import_schools(app, tmp_path, SCHOOLS_CSV)
    assert again.exit_code == 0, again.output
    assert "0 nye, 0 endret, 2 uendret" in again.output
    assert actions() == ["school.create", "school.create", "import.schools"]

    # Renamed, recounted: matched by organisation number, the slug stays.
    renamed = FJELL.replace("Fjell skole", "Fjell barneskole").replace("1:2:48;2:2:45", "1:3:70")
    changed = import_schools(app, tmp_path, "\n".join([HEADER, renamed, UNGDOM]))
    assert changed.exit_code == 0, changed.output
    assert "0 nye, 1 endret, 1 uendret" in changed.output
    fjell = schools()["fjell-skole"]
    assert fjell.name == "Fjell barneskole"
    assert [(c.grade, c.classes, c.pupils) for c in fjell.grade_counts] == [(1, 3, 70)]
    assert count(School) == 2
    assert count(SchoolGradeCount) == 1
    assert actions()[-2:] == ["school.update", "import.schools"]


def test_a_dry_run_writes_nothing(app, municipality, tmp_path):
    result = import_schools(app, tmp_path, SCHOOLS_CSV, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Prøvekjøring, ingenting er lagret. Skoler: 2 nye, 0 endret, 0 uendret." in result.output
    assert count(School) == 0
    assert actions() == []


def test_semicolons_and_a_byte_order_mark_are_read(app, municipality, tmp_path):
    text = (
        "name;grade_min;grade_max;accepts_backpack_post;latitude;longitude;grade_counts\n"
        'Åssiden skole;1;7;ja;59,7501;10,1702;"1:2:40;7:3:75"\n'
    )
    result = import_schools(app, tmp_path, b"\xef\xbb\xbf" + text.encode())
    assert result.exit_code == 0, result.output
    school = schools()["assiden-skole"]
    assert (school.name, school.latitude, school.longitude) == ("Åssiden skole", 59.7501, 10.1702)
    assert [c.grade for c in school.grade_counts] == [1, 7]


def test_one_bad_row_writes_nothing_and_every_error_names_its_line(app, municipality, tmp_path):
    bad = "Tom skole,,974600950,0,11,,,91,10.2,http://www.facebook.com/x,kanskje,1:2"
    result = import_schools(app, tmp_path, "\n".join([HEADER, FJELL, bad]))
    assert result.exit_code == 1
    errors = result.stderr
    for message in (
        "linje 3: org_number «974600950» er ikke et gyldig organisasjonsnummer",
        "linje 3: grade_min «0» må være et trinn fra 1 til 10",
        "linje 3: grade_max «11» må være et trinn fra 1 til 10",
        "linje 3: latitude «91» må være et desimaltall fra -90 til 90",
        "linje 3: facebook_page_url «http://www.facebook.com/x» må være adressen til en Facebook-side",
        "linje 3: accepts_backpack_post «kanskje» må være ja/nei",
        "linje 3: grade_counts «1:2» må være trinn:klasser:elever",
        "ingenting er importert; filen har 7 feil",
    ):
        assert message in errors
    assert count(School) == 0
    assert actions() == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Fjell skole,,,5,3,,,,,,ja,", "grade_min (5) kan ikke være større enn grade_max (3)"),
        (
            "Fjell skole,,,1,7,,,,,,ja,8:2:40",
            "grade_counts har 8. trinn, men skolen har 1.–7. trinn",
        ),
        ("Fjell skole,,,1,7,,,,,,ja,1:2:40;1:2:41", "grade_counts har 1. trinn flere ganger"),
        ("Fjell skole,,,1,7,,,59.7,,,ja,", "latitude og longitude må fylles ut begge"),
        ("Fjell skole,Fjell Skole!,,1,7,,,,,,ja,", "slug «Fjell Skole!» kan bare ha små bokstaver"),
        (",,,1,7,,,,,,ja,", "name mangler"),
        ("Fjell skole,,,1,7,,,,,,,", "accepts_backpack_post «» må være ja/nei"),
    ],
)
def test_row_errors(app, municipality, tmp_path, row, message):
    result = import_schools(app, tmp_path, "\n".join([HEADER, row]))
    refused(result, f"linje 2: {message}")
    assert count(School) == 0


def test_the_same_school_twice_in_a_file_is_an_error(app, municipality, tmp_path):
    result = import_schools(
        app, tmp_path, "\n".join([HEADER, FJELL, FJELL.replace("Fjell skole", "Fjell")])
    )
    refused(result, "linje 3: samme skole (samme slug eller org_number) som på linje 2")


def test_a_slug_of_another_municipalitys_school_is_an_error(
    app, municipality, make_municipality, make_school, tmp_path
):
    lier = make_municipality(slug="lier", name="Lier")
    make_school(slug="fjell-skole", name="Fjell skole", municipality=lier)
    result = import_schools(app, tmp_path, "\n".join([HEADER, UNGDOM, FJELL]))
    refused(result, "linje 3: slug «fjell-skole» er tatt av Fjell skole i en annen kommune (Lier)")
    assert count(School) == 1


def test_a_slug_the_schools_urls_use_is_an_error(app, municipality, tmp_path):
    # /schools/invitations/<token> is the staff invitation link, not a school's page.
    result = import_schools(app, tmp_path, "\n".join([HEADER, "Invitations,,,1,7,,,,,,ja,"]))
    refused(result, "linje 2: slug «invitations» er reservert")
    assert count(School) == 0


@pytest.mark.parametrize(
    "column",
    [
        "fornavn",
        "Etternavn",
        "elev",
        "foresatt_epost",
        "Fødselsdato",
        "birth_date",
        "personnummer",
        "SSN",
    ],
)
def test_a_column_about_people_is_refused(app, municipality, tmp_path, column):
    result = import_schools(app, tmp_path, f"{HEADER},{column}\n{FJELL},x\n")
    refused(result, f"«{column.lower()}» ser ut til å handle om personer")
    assert "lagrer ingen opplysninger om elever eller foresatte" in result.stderr
    assert count(School) == 0


def test_an_unknown_column_is_named(app, municipality, tmp_path):
    result = import_schools(app, tmp_path, f"{HEADER},rektor_kontor\n{FJELL},x\n")
    refused(result, "Ukjent kolonne: «rektor_kontor»")
    assert count(School) == 0


@pytest.mark.parametrize(
    ("slug", "text", "message"),
    [
        ("atlantis", SCHOOLS_CSV, "Ukjent kommune «atlantis»"),
        ("drammen", "name,grade_min\nFjell,1\n", "Filen mangler kolonnene: grade_max"),
        ("drammen", HEADER + "\n", "bare en overskriftsrad og ingen skoler"),
        ("drammen", b"name,grade_min,grade_max\n\xff,1,7\n", "ikke gyldig UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported(app, municipality, tmp_path, slug, text, message):
    result = import_schools(app, tmp_path, text, slug=slug)
    refused(result, message)
    assert count(School) == 0


def test_the_readme_example_imports(app, municipality, tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing schools from a spreadsheet", 1)[1]
    example = section.split("```csv\n", 1)[1].split("```", 1)[0]
    result = import_schools(app, tmp_path, example)
    assert result.exit_code == 0, result.output
    assert "2 nye, 0 endret, 0 uendret" in result.output
    assert sum(c.pupils for c in schools()["fjell-skole"].grade_counts) == 352


# --- going live, from an empty database ---------------------------------------------------------


def test_going_live_on_a_fresh_database(tmp_path):
    """The README's sequence on a new SQLite file: migrations, categories, municipality, admin,
    schools."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ny.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
        }
    )
    csv_file = tmp_path / "skoler.csv"
    csv_file.write_text(SCHOOLS_CSV, encoding="utf-8")
    steps = [
        (["init-db"], None),
        (
            ["create-municipality", "drammen", "--name", "Drammen", "--org-number", "921234554"],
            None,
        ),
        (
            [
                "create-admin",
                "admin@drammen.example",
                "--municipality",
                "drammen",
                "--password-stdin",
            ],
            GOOD_PASSWORD + "\n",
        ),
        (["import-schools", str(csv_file), "--municipality", "drammen"], None),
    ]
    try:
        for args, stdin in steps:
            with app.app_context():  # as the flask command gives each command
                result = app.test_cli_runner().invoke(args=args, input=stdin)
            assert result.exit_code == 0, (args, result.output)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Category)) == 10
            assert sorted(db.session.scalars(select(School.slug))) == ["dus", "fjell-skole"]
            admin = db.session.scalar(select(User))
            assert admin.admin_municipality.slug == "drammen"
    finally:
        with app.app_context():
            db.engine.dispose()
