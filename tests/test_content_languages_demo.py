"""The demo has offers in Polish, Ukrainian and Arabic (issue 14, item 2), and their pages
show them."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from directory.activities.models import Activity, ActivityTranslation
from directory.demo import load_demo
from directory.extensions import db

# The demo writes flyers into the shared upload folder: each test removes those it added.
pytestmark = pytest.mark.usefixtures("remove_new_uploads")


def test_the_demo_has_current_offers_in_polish_ukrainian_and_arabic(app, client):
    load_demo()
    db.session.commit()
    by_activity: dict[int, dict[str, str]] = defaultdict(dict)
    for row in db.session.execute(
        select(ActivityTranslation.activity_id, ActivityTranslation.language,
               ActivityTranslation.title)
    ):  # fmt: skip
        by_activity[row.activity_id][row.language] = row.title
    assert len(by_activity) >= 5
    assert {"pl", "uk", "ar"} <= {code for texts in by_activity.values() for code in texts}
    titles = {db.session.get(Activity, i).title for i in by_activity}
    assert any(t.startswith("Fotballtrening") for t in titles)
    assert any(t.startswith("Svømmekurs") for t in titles)
    assert "Barnekoret" in titles
    for activity_id, texts in by_activity.items():
        assert db.session.get(Activity, activity_id).status == "published"
        page = client.get(f"/activities/{activity_id}?content=uk")
        assert page.status_code == 200
        assert f'<h1 lang="uk" dir="ltr">{texts["uk"]}</h1>' in page.get_data(as_text=True)
