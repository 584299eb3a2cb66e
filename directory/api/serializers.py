"""The API's one schema layer: query parameters in, plain JSON-ready dicts out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from wtforms import Form, StringField
from wtforms.validators import Optional

from directory.activities.models import Activity, Category, Schedule
from directory.activities.schedule import next_occurrences, parse_local_list
from directory.organisations.models import Organisation
from directory.rendering import render_markdown
from directory.schools.models import School
from directory.timeutil import to_oslo

NEXT_OCCURRENCES = 10


# --- input ---------------------------------------------------------------------------------
# The activities list takes the search filters (directory.search.query); the other lists take
# only ?municipality=.


class MunicipalityParams(Form):
    """?municipality=<slug>; unknown parameters are ignored."""

    municipality = StringField(validators=[Optional()])


def parse_params(args) -> tuple[dict[str, Any] | None, str | None]:
    """The validated ?municipality= of a list, or None and a bokmål error message."""
    form = MunicipalityParams(args)
    if not form.validate():
        return None, _("Parameteren «municipality» er ugyldig.")
    return {"municipality": (form.municipality.data or "").strip() or None}, None


# --- output --------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """An aware datetime (or naive Oslo wall time) as ISO 8601 with its Europe/Oslo offset."""
    return to_oslo(value).isoformat() if value is not None else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def media_url(filename: str | None) -> str | None:
    """The absolute URL of an uploaded file served under /media/."""
    if not filename:
        return None
    return url_for("activities.media", name=filename, _external=True)


def activity_url(activity: Activity) -> str:
    """The absolute URL of the activity's public HTML page."""
    return url_for("activities.show_activity", activity_id=activity.id, _external=True)


def organisation_ref(organisation: Organisation) -> dict[str, Any]:
    """The short form of an organisation embedded in an activity."""
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "kind": organisation.kind,
        "verified": organisation.verified,
    }


def activity_item(activity: Activity, *, next_start: datetime | None) -> dict[str, Any]:
    """An activity as it appears in a list; `next_start` is computed by the caller."""
    return {
        "id": activity.id,
        "title": activity.title,
        "summary": activity.summary,
        "organisation": organisation_ref(activity.organisation),
        "category": activity.category.slug if activity.category else None,
        "age_min": activity.age_min,
        "age_max": activity.age_max,
        "is_free": activity.is_free,
        "price_nok": activity.price_nok,
        "next_start": iso(next_start),
        "has_flyer": activity.has_flyer,
        "facebook_post_url": activity.facebook_post_url,
        "status": activity.status,
        "url": activity_url(activity),
        "venue": activity.venue,
        "address": activity.address,
    }


def schedule_item(schedule: Schedule) -> dict[str, Any]:
    """One schedule in iCalendar terms, times as ISO 8601 with the Oslo offset."""
    return {
        "dtstart": iso(schedule.dtstart),
        "duration_minutes": schedule.duration_minutes,
        "rrule": schedule.rrule or None,
        "rdates": [iso(d) for d in parse_local_list(schedule.rdates)],
        "exdates": [iso(d) for d in parse_local_list(schedule.exdates)],
    }


def activity_detail(activity: Activity, *, now: datetime) -> dict[str, Any]:
    """Everything public about one activity."""
    upcoming = next_occurrences(activity.schedules, after=now, limit=NEXT_OCCURRENCES)
    item = activity_item(activity, next_start=upcoming[0].start if upcoming else None)
    item.update(
        {
            "description": activity.description,
            "description_html": str(render_markdown(activity.description)),
            "tags": activity.tag_list,
            "price_note": activity.price_note,
            "cancellation_note": activity.cancellation_note,
            "schedules": [schedule_item(s) for s in activity.schedules],
            "next_occurrences": [{"start": iso(o.start), "end": iso(o.end)} for o in upcoming],
            "latitude": _number(activity.latitude),
            "longitude": _number(activity.longitude),
            "accessibility": activity.accessibility,
            "languages": [x.strip() for x in activity.languages.split(",") if x.strip()],
            "registration_url": activity.registration_url,
            "capacity": activity.capacity,
            "image_url": media_url(activity.image_filename),
            "image_alt": activity.image_alt,
            "flyer_url": media_url(activity.flyer_filename),
            "municipality": activity.organisation.municipality.slug,
        }
    )
    return item


def organisation_item(organisation: Organisation) -> dict[str, Any]:
    """An organisation in the organisations list."""
    return {
        **organisation_ref(organisation),
        "url": url_for("organisations.show_organisation", slug=organisation.slug, _external=True),
        "municipality": organisation.municipality.slug,
    }


def category_item(category: Category, language: str) -> dict[str, Any]:
    """A category with its name in the request's language and in each interface language."""
    return {
        "slug": category.slug,
        "name": category.name_in(language),
        "names": {"nb": category.name_nb, "nn": category.name_nn, "en": category.name_en},
    }


def school_item(school: School) -> dict[str, Any]:
    """A school and the channels it has; never anything about its pupils beyond grades."""
    return {
        "slug": school.slug,
        "name": school.name,
        "grades": school.grades,
        "has_facebook_page": school.has_facebook_page,
        "accepts_backpack_post": school.accepts_backpack_post,
        "municipality": school.municipality.slug,
    }
