"""How activities are shown: schedules in words and schema.org Event data."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import format_date
from markupsafe import Markup

from directory.activities.schedule import (
    Occurrence,
    ScheduleLike,
    activity_occurrences,
    parse_local_list,
    summarise_rule,
)
from directory.i18n import gettext as _
from directory.policy.fritidskort import SESSIONS, check_readiness
from directory.timeutil import OSLO, oslo_now
from directory.urls import absolute_url

if TYPE_CHECKING:
    from directory.activities.models import Activity


def _day(value: date, with_year: bool) -> str:
    if with_year:
        # TRANSLATORS: a CLDR date pattern (d = day, MMMM = month name, y = year); keep the letters.
        return format_date(value, _("d. MMMM y"))
    # TRANSLATORS: a CLDR date pattern (d = day, MMMM = month name); keep the letters.
    return format_date(value, _("d. MMMM"))


def _clock(value: datetime) -> str:
    return value.strftime("%H:%M")


def describe_schedule(schedule: ScheduleLike) -> str:
    """One schedule in words, e.g. 'Hver tirsdag kl. 17:00–18:30, fra 3. november til 15. desember'."""
    start = schedule.dtstart
    end = start + timedelta(minutes=schedule.duration_minutes)
    if end.date() == start.date():
        times = _("kl. %(start)s–%(end)s", start=_clock(start), end=_clock(end))
    elif (end.date() - start.date()).days < 7:  # overnight: a camp, a trip
        times = _(
            "kl. %(start)s til %(weekday)s kl. %(end)s",
            start=_clock(start),
            weekday=format_date(end.date(), "EEEE"),
            end=_clock(end),
        )
    else:
        times = _(
            "kl. %(start)s til %(day)s kl. %(end)s",
            start=_clock(start),
            day=_day(end.date(), end.year != start.year),
            end=_clock(end),
        )
    weekday = format_date(start.date(), "EEEE")
    summary = summarise_rule(schedule)
    this_year = oslo_now().year
    if summary.repeat == "once":
        text = _(
            "%(weekday)s %(day)s %(times)s",
            weekday=weekday,
            day=_day(start.date(), start.year != this_year),
            times=times,
        )
        text = text[:1].upper() + text[1:]
    else:
        with_year = start.year != this_year or (
            summary.until is not None and summary.until.year != start.year
        )
        # Whole sentences, so that each language can order its own words.
        values = {
            "weekday": weekday,
            "times": times,
            "first": _day(start.date(), with_year),
            "last": _day(summary.until, with_year) if summary.until is not None else "",
        }
        if summary.repeat == "weekly" and summary.until is not None:
            text = _("Hver %(weekday)s %(times)s, fra %(first)s til %(last)s", **values)
        elif summary.repeat == "weekly":
            text = _("Hver %(weekday)s %(times)s, fra %(first)s", **values)
        elif summary.repeat == "biweekly" and summary.until is not None:
            text = _("Annenhver %(weekday)s %(times)s, fra %(first)s til %(last)s", **values)
        elif summary.repeat == "biweekly":
            text = _("Annenhver %(weekday)s %(times)s, fra %(first)s", **values)
        elif summary.until is not None:
            text = _("Gjentas etter en egen regel, %(times)s, fra %(first)s til %(last)s", **values)
        else:
            text = _("Gjentas etter en egen regel, %(times)s, fra %(first)s", **values)
    extra = parse_local_list(schedule.rdates)
    if extra:
        text += ". " + _(
            "Også %(dates)s", dates=", ".join(_day(d.date(), d.year != this_year) for d in extra)
        )
    skipped = parse_local_list(schedule.exdates)
    if skipped:
        text += ". " + _(
            "Ikke %(dates)s", dates=", ".join(_day(d.date(), d.year != this_year) for d in skipped)
        )
    return text + "."


def this_week(today: date | None = None) -> tuple[date, date]:
    """The rest of this week, today to Sunday (Oslo time): the home page's «Denne uken»."""
    today = today or oslo_now().date()
    return today, today + timedelta(days=7 - today.isoweekday())


def _absolute(endpoint: str, **values: Any) -> str:
    # On PUBLIC_BASE_URL when set: the Host header is the client's word (directory.urls).
    return absolute_url(endpoint, **values)


def event_json_ld(activity: Activity, upcoming: list[Occurrence]) -> Markup:
    """schema.org Event data for the activity, safe to put inside a <script> element."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": activity.title,
        "url": _absolute("activities.show_activity", activity_id=activity.id),
        "eventStatus": "https://schema.org/EventCancelled"
        if activity.status == "cancelled"
        else "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "typicalAgeRange": f"{activity.age_min}-{activity.age_max}",
        "inLanguage": "nb",
        "organizer": {
            "@type": "Organization",
            "name": activity.organisation.name,
            "url": _absolute("organisations.show_organisation", slug=activity.organisation.slug),
        },
        "offers": {
            "@type": "Offer",
            "price": str(activity.price_nok),
            "priceCurrency": "NOK",
            "availability": "https://schema.org/InStock",
        },
    }
    if activity.summary:
        data["description"] = activity.summary
    if upcoming:
        data["startDate"] = upcoming[0].start.isoformat()
        data["endDate"] = upcoming[0].end.isoformat()
    if (activity.registration_url or "").startswith(("http://", "https://")):
        data["offers"]["url"] = activity.registration_url
    if activity.venue or activity.address:
        place: dict[str, Any] = {"@type": "Place", "name": activity.venue or activity.address}
        if activity.address:
            place["address"] = activity.address
        if activity.latitude is not None and activity.longitude is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": float(activity.latitude),
                "longitude": float(activity.longitude),
            }
        data["location"] = place
    if activity.image_filename:
        data["image"] = _absolute("activities.media", name=activity.image_filename)
    if activity.capacity:
        data["maximumAttendeeCapacity"] = activity.capacity
    if len(upcoming) > 1:
        data["eventSchedule"] = [
            {"@type": "Schedule", "startDate": o.start.isoformat(), "endDate": o.end.isoformat(),
             "scheduleTimezone": str(OSLO)}
            for o in upcoming
        ]  # fmt: skip
    text = json.dumps(data, ensure_ascii=False, indent=1)
    # Inside <script>, "</script>" or "<!--" in user text would end the element early;
    # \u003c is the same character to a JSON parser and harmless to the HTML parser.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - JSON with every "<", ">" and "&" escaped just above


SEASON_DAYS = 366  # an open-ended schedule counts its sessions over one year from its start


def season_sessions(schedules: list[ScheduleLike]) -> int:
    """How many times the activity meets in its season: every occurrence from its first start,
    over at most SEASON_DAYS (an open-ended weekly schedule would otherwise never end)."""
    if not schedules:
        return 0
    first = min(s.dtstart for s in schedules).replace(tzinfo=OSLO)
    return len(activity_occurrences(schedules, first, first + timedelta(days=SEASON_DAYS)))


def fritidskort_hint(activity: Activity) -> dict[str, Any] | None:
    """For an offer marked payable with the leisure card: whether it meets the municipality's
    rules, as {"ok": bool, "messages": [...]}; None when not marked or no rules are set."""
    if not activity.fritidskort:
        return None
    municipality = activity.organisation.municipality
    verdict = check_readiness(
        sessions=season_sessions(activity.schedules),
        price_nok=activity.price_nok or 0,
        min_sessions=municipality.fritidskort_min_sessions,
        max_price=municipality.fritidskort_max_price,
    )
    if not verdict.has_rules:
        return None
    if verdict.ok:
        return {"ok": True, "messages": [_("Tilbudet oppfyller kommunens krav til fritidskortet")]}
    messages = []
    for shortfall in verdict.shortfalls:
        if shortfall.rule == SESSIONS:
            messages.append(
                _(
                    "Minst %(required)d ganger kreves, tilbudet har %(actual)d",
                    required=shortfall.required,
                    actual=shortfall.actual,
                )
            )
        else:
            messages.append(
                _(
                    "Prisen kan være høyst %(required)d kr, tilbudet koster %(actual)d kr",
                    required=shortfall.required,
                    actual=shortfall.actual,
                )
            )
    return {"ok": False, "messages": messages}
