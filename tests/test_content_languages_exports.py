"""Exports to schools carry the offer's other languages (issue 14, item 2): the Facebook share
text and the week's overview page with each translation's title; the overview PDF names the
languages only (its core fonts have no Cyrillic, Arabic or Ge'ez letters)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from directory.activities.models import ActivityTranslation
from directory.extensions import db
from tests import test_exports
from tests.test_exports import WEEK, suggested_texts

# The export tests' world and signed-in staff, on their Wednesday in November.
_on_a_wednesday_in_november = test_exports._on_a_wednesday_in_november
world = test_exports.world
staff_client = test_exports.staff_client


def _translate(activity) -> None:
    activity.translations = [
        ActivityTranslation(language="pl", title="Piłka nożna dla wszystkich"),
        ActivityTranslation(language="uk", title="Футбол для всіх"),
    ]
    db.session.commit()


def test_the_facebook_text_lists_the_other_languages_with_their_titles(staff_client, world):
    _translate(world["football"])
    text = suggested_texts(staff_client)["Æsj, fotball på Øvre Ål"]
    assert "Også på: polsk – Piłka nożna dla wszystkich; ukrainsk – Футбол для всіх." in text
    assert "Også på" not in suggested_texts(staff_client)["Kodeklubb"]


def test_the_overview_page_shows_the_titles_and_the_pdf_the_language_names(staff_client, world):
    _translate(world["football"])
    page = staff_client.get(f"/schools/bragernes/overview/{WEEK}").get_data(as_text=True)
    assert '<span lang="uk" dir="ltr">Футбол для всіх</span>' in page
    response = staff_client.get(f"/schools/bragernes/overview/{WEEK}.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Også på polsk, ukrainsk" in text
