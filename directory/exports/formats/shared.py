"""What every export format is built from: the offers of one school, week and channel, as plain
text and absolute links, taken from the loaded rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import current_app
from flask_babel import format_date, get_locale

from directory.activities.content_languages import (
    CONTENT_LANGUAGES,
    ContentLanguage,
    in_language_order,
)
from directory.activities.display import describe_schedule
from directory.activities.schedule import next_start
from directory.approvals.display import grades_text, week_label, week_monday
from directory.i18n import gettext as _
from directory.rendering import format_price
from directory.timeutil import OSLO

if TYPE_CHECKING:
    from directory.approvals.models import DistributionRequest
    from directory.schools.models import School

# When a batch has no dated request (never, for real rows): a fixed date keeps the PDF stable.
FALLBACK_DATE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Links:
    """Absolute links to the public site; base_url is scheme, host and any prefix, no '/' last.

    Paths come from the URL map itself, not url_for(): no request is needed (the command line
    has none) and no interface-language parameter creeps into a link meant for parents.
    """

    base_url: str
    # The school, channel and ISO week of the export the links go into: its short links carry
    # them (?s=&c=&w=), so that visits through them are counted (directory.reach_counts).
    school_slug: str | None = None
    channel: str | None = None
    week: str | None = None

    def _url(self, endpoint: str, **values: object) -> str:
        adapter = current_app.url_map.bind("localhost")
        return self.base_url + adapter.build(endpoint, values)

    def page(self, activity_id: int) -> str:
        """The activity's page."""
        return self._url("activities.show_activity", activity_id=activity_id)

    def short(self, activity_id: int) -> str:
        """The short link that redirects to the activity's page, with the export's school,
        channel and week when the links have them."""
        url = self._url("exports.short_link", activity_id=activity_id)
        if self.school_slug and self.channel and self.week:
            url += "?" + urlencode({"s": self.school_slug, "c": self.channel, "w": self.week})
        return url

    def calendar(self, activity_id: int) -> str:
        """The activity as an iCalendar file."""
        return self._url("feeds.activity_ics", activity_id=activity_id)

    def media(self, name: str) -> str:
        """An uploaded image."""
        return self._url("activities.media", name=name)


@dataclass(frozen=True)
class Offer:
    """One approved request as the export files show it: plain text and absolute links."""

    request_id: int
    activity_id: int
    title: str
    summary: str
    organiser: str
    schedule: tuple[str, ...]  # each schedule in words
    next_time: str | None  # the first time from the week's Monday on
    where: str
    ages: str
    grades: tuple[int, ...]  # the grades the organiser targets at this school
    price: str
    registration_url: str | None
    page_url: str
    short_url: str
    calendar_url: str
    facebook_post_url: str | None
    image_url: str | None
    image_name: str | None  # the stored file, for the preview's own link
    image_alt: str
    flyer_name: str | None = None  # the organisation's uploaded flyer (a stored PDF's name)
    # (language code, title) of the offer's text in other languages (issue 14), in list order.
    translations: tuple[tuple[str, str], ...] = ()

    def language_titles(self) -> list[tuple[ContentLanguage, str, str]]:
        """(language, its name in the export's language, the title in it) of each translation."""
        locale = get_locale()
        code = locale.language if locale else "nb"
        return [
            (CONTENT_LANGUAGES[lang], CONTENT_LANGUAGES[lang].name(code), title)
            for lang, title in self.translations
        ]

    def other_languages(self, *, with_titles: bool = True) -> str:
        """The offer's other languages by name in the export's language, each with its title
        («polsk – Trening piłki nożnej; ukrainsk – …»), or names only; '' without any."""
        names = [(name, title) for _language, name, title in self.language_titles()]
        if with_titles:
            return "; ".join(f"{name} – {title}" for name, title in names)
        return ", ".join(name for name, _title in names)

    @property
    def grades_text(self) -> str:
        """The targeted grades in words, e.g. '3.–5. og 7. trinn'."""
        return grades_text(self.grades)

    @property
    def audience(self) -> str:
        """Who it is for: ages, and the grades when known."""
        if self.grades:
            return _("%(ages)s, %(grades)s", ages=self.ages, grades=self.grades_text)
        return self.ages


@dataclass(frozen=True)
class Batch:
    """What one export file holds: a school, a week, a channel (None: all) and the offers."""

    school_name: str
    school_slug: str
    facebook_page_url: str | None
    messaging_label: str
    week: str
    channel: str | None
    offers: tuple[Offer, ...]
    grade_counts: dict[int, tuple[int, int]]  # grade -> (classes, pupils)
    created: datetime  # the PDF's date: the latest review of the included requests
    base_url: str

    @property
    def grades(self) -> list[int]:
        """Every grade any of the offers targets, in order."""
        return sorted({g for offer in self.offers for g in offer.grades})

    @property
    def week_number(self) -> int:
        """The ISO week's number."""
        return int(self.week.split("-W")[1])

    @property
    def week_label(self) -> str:
        """'Uke 48 (fra 23. november 2026)'."""
        return week_label(self.week)


@dataclass(frozen=True)
class ExportFile:
    """A built file: its bytes, media type and download name."""

    content: bytes
    mimetype: str
    filename: str


def _clean_grades(values: object) -> tuple[int, ...]:
    """The stored grade list as sorted ints, ignoring anything that is not a whole number."""
    if not isinstance(values, list):
        return ()
    return tuple(sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)}))


def _next_time(request: DistributionRequest) -> str | None:
    """The activity's first time from the start of the request's week, in words."""
    monday = datetime.combine(week_monday(request.week), time(), tzinfo=OSLO)
    start = next_start(request.activity.schedules, after=monday)
    if start is None:
        return None
    day = format_date(start.date(), "EEEE") + " " + format_date(start.date(), _("d. MMMM"))
    return _("%(day)s kl. %(time)s", day=day, time=start.strftime("%H:%M"))


def _single_date(schedules) -> bool:
    """Whether the activity happens once: then its date in words says when, and no more."""
    return len(schedules) == 1 and not schedules[0].rrule and not schedules[0].rdates


def describe_offer(request: DistributionRequest, links: Links) -> Offer:
    """The request's activity as the export files show it (activity and schedules loaded)."""
    activity = request.activity
    price = format_price(activity.price_nok)
    if activity.price_note:
        price = f"{price} ({activity.price_note})"
    image_url = links.media(activity.image_filename) if activity.image_filename else None
    return Offer(
        request_id=request.id,
        activity_id=activity.id,
        title=activity.title,
        summary=activity.summary or "",
        organiser=activity.organisation.name,
        schedule=tuple(describe_schedule(s) for s in activity.schedules),
        next_time=None if _single_date(activity.schedules) else _next_time(request),
        where=", ".join(part for part in (activity.venue, activity.address) if part),
        ages=_("%(min)s–%(max)s år", min=activity.age_min, max=activity.age_max),
        grades=_clean_grades(request.grades),
        price=price,
        registration_url=activity.registration_url or None,
        page_url=links.page(activity.id),
        short_url=links.short(activity.id),
        calendar_url=links.calendar(activity.id),
        facebook_post_url=activity.facebook_post_url or None,
        image_url=image_url,
        image_name=activity.image_filename or None,
        image_alt=activity.image_alt or "",
        flyer_name=activity.flyer_filename or None,
        translations=tuple((t.language, t.title) for t in in_language_order(activity.translations)),
    )


def build_batch(
    school: School,
    week: str,
    channel: str | None,
    requests: Sequence[DistributionRequest],
    links: Links,
) -> Batch:
    """The batch for the given requests, in their order (school's grade counts loaded)."""
    dates = [r.reviewed_at or r.created_at for r in requests if (r.reviewed_at or r.created_at)]
    return Batch(
        school_name=school.name,
        school_slug=school.slug,
        facebook_page_url=school.facebook_page_url or None,
        messaging_label=school.municipality.messaging_label,
        week=week,
        channel=channel,
        offers=tuple(describe_offer(r, links) for r in requests),
        grade_counts={c.grade: (c.classes, c.pupils) for c in school.grade_counts},
        created=max(dates) if dates else FALLBACK_DATE,
        base_url=links.base_url,
    )


def merge_by_activity(offers: Iterable[Offer]) -> list[Offer]:
    """One offer per activity (the first), with the grades of all its requests."""
    merged: dict[int, Offer] = {}
    for offer in offers:
        first = merged.get(offer.activity_id)
        if first is None:
            merged[offer.activity_id] = offer
        else:
            grades = tuple(sorted({*first.grades, *offer.grades}))
            merged[offer.activity_id] = replace(first, grades=grades)
    return list(merged.values())
