"""From the database to the API's models (directory.api.schemas), and query strings in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request
from pydantic import BaseModel, ValidationError

from directory import data_version
from directory.activities.content_languages import in_language_order
from directory.activities.languages import language_names
from directory.activities.listings import oslo_today
from directory.activities.models import Activity, Category, Schedule
from directory.activities.schedule import next_occurrences, parse_local_list
from directory.api import schemas
from directory.i18n import gettext as _
from directory.organisations.listing import Entry
from directory.organisations.models import Organisation
from directory.policy.listing_dates import is_expired
from directory.rendering import render_markdown
from directory.schools.models import School
from directory.search.base import ResultPage
from directory.shelf import shelved
from directory.urls import absolute_url, site_origin
from directory.venues.operations import ListedVenue

# --- input ---------------------------------------------------------------------------------
# The activities list takes the search filters (directory.search.query); the other lists take
# only ?municipality=.


def parse_params(args) -> tuple[schemas.MunicipalityParams | None, str | None]:
    """The validated ?municipality= of a list, or None and a message in the user's language.

    Like the search filters: the first value counts, blank means absent, other parameters are
    ignored.
    """
    values = {name: args.get(name, "").strip() for name in schemas.MunicipalityParams.model_fields}
    try:
        return schemas.MunicipalityParams.model_validate(
            {k: v for k, v in values.items() if v}
        ), None
    except ValidationError:
        return None, _("Parameteren «municipality» er ugyldig.")


# --- output --------------------------------------------------------------------------------


def json_response(model: BaseModel):
    """The model, serialised by its declaration, as a JSON response."""
    return jsonify(model.model_dump(mode="json"))


def media_url(filename: str | None) -> str | None:
    """The absolute URL of an uploaded file served under /media/."""
    if not filename:
        return None
    return absolute_url("activities.media", name=filename)


def activity_url(activity: Activity) -> str:
    """The absolute URL of the activity's public HTML page."""
    return absolute_url("activities.show_activity", activity_id=activity.id)


def _organisation_ref_fields(organisation: Organisation) -> dict[str, Any]:
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "kind": organisation.kind,
        "verified": organisation.verified,
    }


def _activity_fields(activity: Activity, next_start: datetime | None) -> dict[str, Any]:
    return {
        "id": activity.id,
        "title": activity.title,
        "summary": activity.summary,
        "organisation": schemas.OrganisationRef(**_organisation_ref_fields(activity.organisation)),
        "category": activity.category.slug if activity.category else None,
        "age_min": activity.age_min,
        "age_max": activity.age_max,
        "is_free": activity.is_free,
        "price_nok": activity.price_nok,
        "fritidskort": activity.fritidskort,
        "trial_session": activity.trial_session,
        "equipment_provided": activity.equipment_provided,
        "next_start": next_start,
        "has_flyer": activity.has_flyer,
        "facebook_post_url": activity.facebook_post_url,
        "status": activity.status,
        "url": activity_url(activity),
        "venue": activity.venue,
        "address": activity.address,
        "content_languages": [t.language for t in in_language_order(activity.translations)],
    }


def activity_item(
    activity: Activity, *, next_start: datetime | None, distance_km: float | None = None
) -> schemas.ActivityListItem:
    """An activity as a search lists it; `next_start` and `distance_km` (from the `near`
    school, None without one) are computed by the caller."""
    return schemas.ActivityListItem(
        **_activity_fields(activity, next_start),
        distance_km=round(distance_km, 2) if distance_km is not None else None,
    )


def activity_items(page: ResultPage) -> list[schemas.ActivityListItem]:
    """A page of search results as the API lists them. Each item is the same for every client
    of the same site, so this process keeps it until the public data changes (as the result
    cards are kept); only the activities of items it lacks are loaded, in one query."""
    shelf = data_version.kept_shelf("api_list_items", "CARD_CACHE_ENTRIES")
    origin = (site_origin(), request.script_root)
    return shelved(
        page.ids,
        shelf,
        lambda i: (origin, i, page.next_starts.get(i), page.distances.get(i)),
        page.activities,
        lambda i, activity: activity_item(
            activity, next_start=page.next_starts.get(i), distance_km=page.distances.get(i)
        ),
    )


def schedule_item(schedule: Schedule) -> schemas.Schedule:
    """One schedule in iCalendar terms."""
    return schemas.Schedule(
        dtstart=schedule.dtstart,
        duration_minutes=schedule.duration_minutes,
        rrule=schedule.rrule or None,
        rdates=parse_local_list(schedule.rdates),
        exdates=parse_local_list(schedule.exdates),
    )


def activity_detail(activity: Activity, *, now: datetime) -> schemas.ActivityDetail:
    """Everything public about one activity."""
    upcoming = next_occurrences(activity.schedules, after=now, limit=schemas.NEXT_OCCURRENCES)
    return schemas.ActivityDetail(
        **_activity_fields(activity, upcoming[0].start if upcoming else None),
        description=activity.description,
        description_html=str(render_markdown(activity.description)),
        tags=activity.tag_list,
        price_note=activity.price_note,
        cancellation_note=activity.cancellation_note,
        schedules=[schedule_item(s) for s in activity.schedules],
        next_occurrences=[schemas.Occurrence(start=o.start, end=o.end) for o in upcoming],
        latitude=activity.latitude,
        longitude=activity.longitude,
        accessibility=activity.accessibility,
        venue_slug=activity.place.slug if activity.place else None,
        venue_accessibility=activity.place.accessibility if activity.place else "",
        # Names in bokmål, as the API has always given them (the activity stores codes).
        languages=language_names(activity.languages, "nb"),
        registration_url=activity.registration_url,
        capacity=activity.capacity,
        image_url=media_url(activity.image_filename),
        image_alt=activity.image_alt,
        flyer_url=media_url(activity.flyer_filename),
        municipality=activity.organisation.municipality.slug,
        translations=[
            schemas.Translation(
                language=t.language,
                title=t.title,
                summary=t.summary,
                description=t.description,
                description_html=str(render_markdown(t.description)),
            )
            for t in in_language_order(activity.translations)
        ],
        expired=is_expired(activity.confirmed_until, oslo_today(now)),
        confirmed_until=activity.confirmed_until,
    )


def organisation_item(entry: Entry) -> schemas.Organisation:
    """An organisation in the directory, with its categories and current offers."""
    organisation = entry.organisation
    return schemas.Organisation(
        **_organisation_ref_fields(organisation),
        url=absolute_url("organisations.show_organisation", slug=organisation.slug),
        municipality=organisation.municipality.slug,
        categories=[category.slug for category in entry.categories],
        current_offers=entry.current_offers,
        logo_url=media_url(organisation.logo_filename),
    )


def category_item(category: Category, language: str) -> schemas.Category:
    """A category with its name in the request's language and in each interface language."""
    return schemas.Category(
        slug=category.slug,
        name=category.name_in(language),
        names=schemas.CategoryNames(nb=category.name_nb, nn=category.name_nn, en=category.name_en),
    )


def venue_item(listed: ListedVenue) -> schemas.Venue:
    """A public venue with its count of public activities."""
    venue = listed.venue
    return schemas.Venue(
        slug=venue.slug,
        name=venue.name,
        address=venue.address,
        latitude=venue.latitude,
        longitude=venue.longitude,
        accessibility=venue.accessibility,
        municipality=venue.municipality.slug,
        activities=listed.activities,
        url=absolute_url("venues.show_venue", slug=venue.slug),
    )


def school_item(school: School) -> schemas.School:
    """A school and the channels it has; never anything about its pupils beyond grades."""
    return schemas.School(
        slug=school.slug,
        name=school.name,
        grades=school.grades,
        has_facebook_page=school.has_facebook_page,
        accepts_backpack_post=school.accepts_backpack_post,
        municipality=school.municipality.slug,
    )
