"""Categories: any municipal admin creates, renames, hides and shows them again; a hidden one
leaves the activity form's new choices, the search filters and counts, and the API, while the
activities that have it keep it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.activities.models import Activity, Category
from directory.admin.operations import category_fingerprint
from directory.audit.models import AuditEvent
from directory.errors import STALE_MESSAGE
from directory.extensions import db
from tests.conftest import quick_user, sign_in


@pytest.fixture
def admin(client, municipality):
    user = quick_user("admin", admin_municipality_id=municipality.id)
    db.session.commit()
    sign_in(client, user)
    return user


def _category(slug: str) -> Category | None:
    db.session.expire_all()
    return db.session.scalar(select(Category).where(Category.slug == slug))


def test_the_admin_creates_a_category_named_in_three_languages(client, admin):
    response = client.post(
        "/admin/categories/new",
        data={"name_nb": "Friluftsliv og tur", "name_nn": "Friluftsliv og tur",
              "name_en": "Outdoor life"},
    )  # fmt: skip
    assert response.status_code == 302
    category = _category("friluftsliv-og-tur")
    assert category is not None and not category.hidden
    assert category.name_en == "Outdoor life"
    assert "Friluftsliv og tur" in client.get("/admin/categories").get_data(as_text=True)
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Kategori lagt til" in log and "Kategori: Friluftsliv og tur" in log
    api = client.get("/api/v1/categories?lang=en").get_json()["items"]
    assert [c["slug"] for c in api] == ["friluftsliv-og-tur"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name_nb": "", "name_nn": "Idrett", "name_en": "Sport"}, "Skriv inn navnet på alle tre språk."),
        ({"name_nb": "Idrett", "name_nn": "Idrett", "name_en": "x" * 81}, "Navnet kan ha høyst 80 tegn."),
        ({"name_nb": "musikk", "name_nn": "Musikk", "name_en": "Music"}, "Det finnes allerede en kategori med dette navnet."),
    ],
)  # fmt: skip
def test_bad_names_are_refused_and_nothing_is_stored(client, admin, make_category, data, message):
    make_category(slug="musikk", name_nb="Musikk")
    before = db.session.scalar(select(func.count(Category.id)))
    response = client.post("/admin/categories/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Category.id))) == before


RENAME = {"name_nb": "Musikk og sang", "name_nn": "Musikk og song", "name_en": "Music"}


def test_renaming_keeps_the_slug_and_audits_before_and_after(client, admin, make_category):
    category = make_category(slug="musikk", name_nb="Musikk", name_nn="Musikk", name_en="Music")
    page = client.get(f"/admin/categories/{category.id}/edit").get_data(as_text=True)
    version = category_fingerprint(category)
    assert f'name="version" type="hidden" value="{version}"' in page
    response = client.post(
        f"/admin/categories/{category.id}/edit", data={**RENAME, "version": version}
    )
    assert response.status_code == 302
    renamed = _category("musikk")
    assert (renamed.name_nb, renamed.name_nn) == ("Musikk og sang", "Musikk og song")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "category.rename"))
    assert event.data["before"]["nb"] == "Musikk" and event.data["after"]["nb"] == "Musikk og sang"


@pytest.mark.parametrize("renamed_meanwhile", [True, False], ids=["old", "missing"])
def test_a_rename_over_a_newer_one_or_without_a_version_is_refused_with_409(
    client, admin, make_category, renamed_meanwhile
):
    category = make_category(slug="musikk", name_nb="Musikk", name_nn="Musikk", name_en="Music")
    data = dict(RENAME)
    if renamed_meanwhile:
        data["version"] = category_fingerprint(category)
        category.name_en = "Music and song"  # another admin's rename, saved first
        db.session.commit()
    response = client.post(f"/admin/categories/{category.id}/edit", data=data)
    assert response.status_code == 409
    assert str(STALE_MESSAGE) in response.get_data(as_text=True)
    assert _category("musikk").name_nb == "Musikk"
    assert db.session.scalar(select(AuditEvent.id)) is None


def test_an_unknown_category_is_404(client, admin):
    assert client.get("/admin/categories/999999/edit").status_code == 404
    assert client.post("/admin/categories/999999/hide").status_code == 404


def test_any_municipalitys_admin_manages_the_shared_categories(
    client, make_municipality, make_category
):
    lier = make_municipality(slug="lier", name="Lier")
    sign_in(client, quick_user("lier", admin_municipality_id=lier.id))
    db.session.commit()
    category = make_category(slug="musikk")
    assert client.post(f"/admin/categories/{category.id}/hide").status_code == 302
    assert _category("musikk").hidden


def test_a_hidden_category_leaves_choices_filters_counts_and_the_api_but_activities_keep_it(
    client, admin, make_category, make_activity, make_user, make_organisation
):
    sport = make_category(slug="idrett", name_nb="Idrett")
    music = make_category(slug="musikk", name_nb="Musikk")
    owner = make_user()
    organisation = make_organisation(owners=[owner])
    activity = make_activity(organisation=organisation, category_id=music.id, title="Korøvelse")

    assert client.post(f"/admin/categories/{music.id}/hide").status_code == 302
    assert _category("musikk").hidden
    assert "Kategori skjult" in client.get("/admin/audit").get_data(as_text=True)

    # Not offered in the filters (nor counted), nor in the API.
    search = client.get("/activities").get_data(as_text=True)
    assert 'value="musikk"' not in search and 'value="idrett"' in search
    api = client.get("/api/v1/activities").get_json()
    assert "musikk" not in api.get("facets", {}).get("category", {})
    assert [c["slug"] for c in client.get("/api/v1/categories").get_json()["items"]] == ["idrett"]
    # The activity keeps it, and its own edit form still offers it; a new activity's does not.
    assert client.get(f"/api/v1/activities/{activity.id}").get_json()["category"] == "musikk"
    sign_in(client, owner)
    edit_form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert f'value="{music.id}"' in edit_form
    new_form = client.get(f"/organisations/{organisation.slug}/activities/new").get_data(
        as_text=True
    )
    assert f'value="{music.id}"' not in new_form and f'value="{sport.id}"' in new_form
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).category_id == music.id

    sign_in(client, admin)
    assert client.post(f"/admin/categories/{music.id}/show").status_code == 302
    assert not _category("musikk").hidden
    assert 'value="musikk"' in client.get("/activities").get_data(as_text=True)


def test_a_new_activity_cannot_choose_a_hidden_category(
    client, make_category, make_user, make_organisation
):
    hidden = make_category(slug="gammel", hidden=True)
    owner = make_user()
    organisation = make_organisation(owners=[owner])
    sign_in(client, owner)
    from tests.test_access_matrix import activity_form

    response = client.post(
        f"/organisations/{organisation.slug}/activities/new",
        data=activity_form(None, category_id=str(hidden.id)),
    )
    assert response.status_code == 400  # the activity form answers 400 to a bad choice
    assert "Velg en kategori fra listen." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Activity.id))) == 0
