"""Offers in the families' languages (issue 14, item 2): organisers write an activity's text in
other languages; the page, the calendar file and the copy carry it; bad input changes nothing."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from directory.activities.models import Activity, ActivityTranslation
from directory.audit.models import AuditEvent
from directory.extensions import db

POLISH = {
    "title": "Trening piłki nożnej",
    "summary": "Gramy razem w piłkę nożną.",
    "description": "Weź **butelkę** z wodą.",
}
UKRAINIAN = {
    "title": "Тренування з футболу",
    "summary": "Граємо у футбол разом.",
    "description": "",
}
ARABIC = {"title": "تدريب كرة القدم", "summary": "نلعب كرة القدم معًا.", "description": ""}


def translate(activity: Activity, language: str, values: dict) -> ActivityTranslation:
    translation = ActivityTranslation(language=language, **values)
    activity.translations.append(translation)
    db.session.commit()
    return translation


def save(client, activity: Activity, language: str, values: dict, version=None):
    """Post the translation form as the page shows it: with the activity's current version."""
    db.session.refresh(activity)
    data = {"version": activity.version if version is None else version, **values}
    return client.post(f"/activities/{activity.id}/translations/{language}", data=data)


def translations_of(activity_id: int) -> dict[str, str]:
    rows = db.session.execute(
        select(ActivityTranslation.language, ActivityTranslation.title).where(
            ActivityTranslation.activity_id == activity_id
        )
    )
    return dict(rows.all())


# --- the organiser's pages -------------------------------------------------------------------


def test_the_organiser_adds_a_polish_text_which_is_audited(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    response = save(client, activity, "pl", POLISH)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/{activity.id}/translations")
    assert translations_of(activity.id) == {"pl": POLISH["title"]}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activity.translate"))
    assert event.object_id == activity.id and event.data["language"] == "pl"


def test_the_translations_page_lists_every_language_with_its_own_name(
    client, org, signed_in, make_activity
):
    activity = make_activity(organisation=org)
    translate(activity, "uk", UKRAINIAN)
    page = client.get(f"/activities/{activity.id}/translations").get_data(as_text=True)
    for name, endonym in [("Polsk", "Polski"), ("Arabisk", "العربية"), ("Nynorsk", "Nynorsk")]:
        assert name in page and endonym in page
    assert UKRAINIAN["title"] in page
    assert f"/activities/{activity.id}/translations/uk/delete" in page


def test_the_activity_page_links_editors_to_the_translations(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert f'href="/activities/{activity.id}/translations"' in page


def test_editing_a_translation_shows_it_and_saves_the_change(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    translate(activity, "pl", POLISH)
    form = client.get(f"/activities/{activity.id}/translations/pl").get_data(as_text=True)
    assert POLISH["title"] in form and 'lang="pl"' in form
    assert save(client, activity, "pl", {**POLISH, "title": "Piłka nożna"}).status_code == 302
    assert translations_of(activity.id) == {"pl": "Piłka nożna"}


def test_removing_a_translation_deletes_it_and_is_audited(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    translate(activity, "pl", POLISH)
    db.session.refresh(activity)
    response = client.post(
        f"/activities/{activity.id}/translations/pl/delete", data={"version": activity.version}
    )
    assert response.status_code == 302
    assert translations_of(activity.id) == {}
    assert db.session.scalar(
        select(func.count()).where(AuditEvent.action == "activity.untranslate")
    )


def test_a_title_is_required_and_nothing_is_stored_without_it(
    client, org, signed_in, make_activity
):
    activity = make_activity(organisation=org)
    response = save(client, activity, "pl", {**POLISH, "title": "  "})
    assert response.status_code == 400
    assert "Skriv inn en tittel." in response.get_data(as_text=True)
    assert translations_of(activity.id) == {}


@pytest.mark.parametrize(
    ("field", "length", "message"),
    [
        ("title", 151, "Tittelen kan ha høyst 150 tegn."),
        ("summary", 301, "Ingressen kan ha høyst 300 tegn."),
        ("description", 20001, "Beskrivelsen kan ha høyst 20 000 tegn."),
    ],
)
def test_too_long_fields_are_refused_with_the_activity_forms_limits(
    client, org, signed_in, make_activity, field, length, message
):
    activity = make_activity(organisation=org)
    translate(activity, "pl", POLISH)
    response = save(client, activity, "pl", {**POLISH, field: "ż" * length})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert translations_of(activity.id) == {"pl": POLISH["title"]}


@pytest.mark.parametrize("language", ["de", "nb", "xx", "PL", "no"])
def test_a_language_the_site_does_not_offer_is_404(client, org, signed_in, make_activity, language):
    activity = make_activity(organisation=org)
    assert client.get(f"/activities/{activity.id}/translations/{language}").status_code == 404
    assert save(client, activity, language, POLISH).status_code == 404
    assert translations_of(activity.id) == {}


def test_removing_a_language_without_text_is_404(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    response = client.post(
        f"/activities/{activity.id}/translations/pl/delete", data={"version": activity.version}
    )
    assert response.status_code == 404


def test_a_stale_form_is_409_and_changes_nothing(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    translate(activity, "pl", POLISH)
    response = save(client, activity, "pl", {**POLISH, "title": "Nowy"}, version=0)
    assert response.status_code == 409
    assert translations_of(activity.id) == {"pl": POLISH["title"]}


def test_a_member_of_another_organisation_may_not_translate(
    client, make_organisation, make_user, login_as, make_activity
):
    activity = make_activity()
    outsider = make_user("annen@example.org")
    make_organisation(name="Annen klubb", members=[outsider])
    login_as(outsider)
    assert client.get(f"/activities/{activity.id}/translations").status_code == 403
    assert save(client, activity, "pl", POLISH).status_code == 403
    assert translations_of(activity.id) == {}


def test_copying_an_activity_copies_its_translations(client, org, signed_in, make_activity):
    activity = make_activity(organisation=org)
    translate(activity, "pl", POLISH)
    translate(activity, "ar", ARABIC)
    response = client.post(f"/activities/{activity.id}/copy")
    copy_id = int(re.search(r"/activities/(\d+)/edit", response.headers["Location"]).group(1))
    assert translations_of(copy_id) == {"pl": POLISH["title"], "ar": ARABIC["title"]}


def test_deleting_an_activity_deletes_its_translations(app, make_activity):
    activity = make_activity()
    translate(activity, "pl", POLISH)
    db.session.delete(activity)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ActivityTranslation)) == 0


# --- the public page -------------------------------------------------------------------------


def test_the_page_offers_each_translation_with_hreflang(client, make_activity):
    activity = make_activity()
    translate(activity, "pl", POLISH)
    translate(activity, "uk", UKRAINIAN)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Les på polsk" in page and "Les på ukrainsk" in page
    assert f'href="/activities/{activity.id}?content=pl" hreflang="pl"' in page
    assert re.search(
        rf'<link rel="alternate" hreflang="uk" href="http://localhost/activities/{activity.id}'
        r'\?content=uk">',
        page,
    )
    own = f'<link rel="alternate" hreflang="nb" href="http://localhost/activities/{activity.id}">'
    assert own in page


def test_the_translated_view_shows_the_text_with_lang_and_the_facts_in_norwegian(
    client, make_activity
):
    activity = make_activity(title="Fotballtrening", price_nok=250)
    translate(activity, "pl", POLISH)
    page = client.get(f"/activities/{activity.id}?content=pl").get_data(as_text=True)
    assert f'<h1 lang="pl" dir="ltr">{POLISH["title"]}</h1>' in page
    assert '<p class="lead" lang="pl" dir="ltr">Gramy razem w piłkę nożną.</p>' in page
    assert "<strong>butelkę</strong>" in page  # Markdown, rendered safely
    assert "Pris" in page and "Alder" in page  # the facts stay in the interface language
    assert "Les på norsk" in page


def test_arabic_is_shown_right_to_left(client, make_activity):
    activity = make_activity()
    translate(activity, "ar", ARABIC)
    page = client.get(f"/activities/{activity.id}?content=ar").get_data(as_text=True)
    assert f'<h1 lang="ar" dir="rtl">{ARABIC["title"]}</h1>' in page


def test_markdown_in_a_translation_is_rendered_safely(client, make_activity):
    activity = make_activity()
    translate(activity, "en", {"title": "Football", "summary": "",
                               "description": "<script>alert(1)</script> **Bring water**"})  # fmt: skip
    page = client.get(f"/activities/{activity.id}?content=en").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<strong>Bring water</strong>" in page


@pytest.mark.parametrize("content", ["de", "xx", "", "uk", "pl' onmouseover='x"])
def test_an_unknown_or_untranslated_language_is_404_with_a_message(client, make_activity, content):
    activity = make_activity()
    translate(activity, "pl", POLISH)
    response = client.get(f"/activities/{activity.id}", query_string={"content": content})
    assert response.status_code == 404
    assert "finnes ikke på det språket" in response.get_data(as_text=True)


def test_the_calendar_file_of_the_ukrainian_view_carries_the_ukrainian_title(client, make_activity):
    activity = make_activity(title="Fotballtrening")
    translate(activity, "uk", UKRAINIAN)
    page = client.get(f"/activities/{activity.id}?content=uk").get_data(as_text=True)
    assert f'href="/activities/{activity.id}.ics?content=uk"' in page
    response = client.get(f"/activities/{activity.id}.ics?content=uk")
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == UKRAINIAN["title"]
    assert event["SUMMARY"].params["LANGUAGE"] == "uk"
    assert str(event["URL"]).endswith(f"/activities/{activity.id}?content=uk")
    plain = client.get(f"/activities/{activity.id}.ics")
    assert str(Calendar.from_ical(plain.data).walk("VEVENT")[0]["SUMMARY"]) == "Fotballtrening"
    assert client.get(f"/activities/{activity.id}.ics?content=pl").status_code == 404


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_content_languages_and_the_detail_gives_translations(client, make_activity):
    activity = make_activity(title="Fotballtrening")
    translate(activity, "uk", UKRAINIAN)
    translate(activity, "pl", POLISH)
    [item] = client.get("/api/v1/activities").get_json()["items"]
    assert item["content_languages"] == ["pl", "uk"]  # the order of the language list
    detail = client.get(f"/api/v1/activities/{activity.id}").get_json()
    assert detail["content_languages"] == ["pl", "uk"]
    assert detail["translations"][0] == {
        "language": "pl",
        "title": POLISH["title"],
        "summary": POLISH["summary"],
        "description": POLISH["description"],
        "description_html": "<p>Weź <strong>butelkę</strong> z wodą.</p>\n",
    }
    assert detail["translations"][1]["title"] == UKRAINIAN["title"]


def test_the_api_gives_empty_lists_without_translations(client, make_activity):
    activity = make_activity()
    detail = client.get(f"/api/v1/activities/{activity.id}").get_json()
    assert detail["content_languages"] == [] and detail["translations"] == []


def test_a_search_result_card_names_the_other_languages_by_their_own_names(client, make_activity):
    activity = make_activity(title="Fotballtrening")
    translate(activity, "ar", ARABIC)
    translate(activity, "uk", UKRAINIAN)
    page = client.get("/activities?q=fotballtrening").get_data(as_text=True)
    assert (
        'Også på: <span lang="uk" dir="ltr">Українська</span>, '
        '<span lang="ar" dir="rtl">العربية</span>'
    ) in page


def test_a_part_left_empty_in_the_language_is_shown_in_norwegian_marked_so(client, make_activity):
    activity = make_activity(summary="Vi spiller fotball.", description="Ta med **vann**.")
    translate(activity, "uk", UKRAINIAN)  # a summary, no description
    page = client.get(f"/activities/{activity.id}?content=uk").get_data(as_text=True)
    assert f'<p class="lead" lang="uk" dir="ltr">{UKRAINIAN["summary"]}</p>' in page
    assert '<div class="description" lang="nb"><p>Ta med <strong>vann</strong>.</p>' in page
