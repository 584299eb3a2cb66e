"""Activities as iCalendar (RFC 5545), and links that add one to Google Calendar or Outlook.

A pure serializer: no request, no database session. The caller passes in the activities (with
their schedules, organisation and category loaded), the site's base URL and the current time.
Schedules are stored in iCalendar terms already (Oslo wall time, RRULE with UNTIL in UTC,
RDATE/EXDATE lists), so each Schedule row becomes one VEVENT almost as it is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import takewhile
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from dateutil.rrule import rrulestr

from directory.activities.schedule import (
    UNTIL_UTC_FORMAT,
    Occurrence,
    activity_occurrences,
    occurrences,
    parse_local_list,
)
from directory.rendering import render_markdown
from directory.text import slugify
from directory.timeutil import OSLO

if TYPE_CHECKING:
    # icalendar is imported by the functions that write a calendar: the activity page wants
    # only the links below, and a worker serving pages need not load it.
    from icalendar import Event, Timezone

    from directory.activities.models import Activity, Schedule

TZID = "Europe/Oslo"
PRODID = "-//Aktivitetskatalogen//Aktivitetskalender 1.0//NB"
GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
OUTLOOK_CALENDAR = "https://outlook.live.com/calendar/0/deeplink/compose"
# Open-ended rules need some end for the VTIMEZONE; subscribers fetch the feed again long before.
OPEN_ENDED_YEARS = 2
# A COUNT beyond this is expanded no further when bounding the time zone: treated as open-ended.
MAX_COUNTED = 1000
# Calendar links carry text in the URL; long descriptions make URLs some browsers refuse.
MAX_LINK_DETAILS = 600
# How far ahead the calendar links look for the next occurrence and the extra dates.
LINK_HORIZON_DAYS = 400


def activity_calendar(
    activities: Iterable[Activity],
    *,
    base_url: str,
    now: datetime,
    name: str = "Aktivitetskatalogen",
    locale: str = "nb",
    cancelled_label: str = "Avlyst",
    refresh_interval: timedelta | None = None,
    texts: Mapping[int, Any] | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT per schedule of each activity, and a bounded VTIMEZONE.

    base_url is the site's scheme and host (and any path prefix) without a trailing slash;
    page links and the UIDs' host come from it. now is the DTSTAMP and the reference for how
    far open-ended rules need the time zone. refresh_interval, for subscribed feeds, tells
    clients how often to fetch the calendar again. texts maps an activity's id to its text in
    another language (an ActivityTranslation: language, title, summary, description), which
    then stands for the activity's own in SUMMARY and DESCRIPTION, marked with LANGUAGE.
    """
    from icalendar import Calendar, vText

    activities = list(activities)
    base_url = base_url.rstrip("/")
    host = urlsplit(base_url).hostname or "localhost"
    stamp = now.astimezone(UTC).replace(microsecond=0)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = " ".join(name.split())  # a calendar's name is one line
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", TZID)
    if refresh_interval is not None:
        calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh_interval)

    first, last = timezone_bounds(activities, now)
    # Always present: it keeps an empty feed a valid calendar (one component at least), and it
    # comes before the events that refer to it, which some clients expect.
    calendar.add_component(oslo_timezone(first, last))
    for activity in activities:
        for schedule in activity.schedules:
            calendar.add_component(
                _event(
                    activity,
                    schedule,
                    base_url=base_url,
                    host=host,
                    stamp=stamp,
                    locale=locale,
                    cancelled_label=cancelled_label,
                    text=(texts or {}).get(activity.id),
                )
            )
    return calendar.to_ical()


def oslo_timezone(first_date: date, last_date: date) -> Timezone:
    """A VTIMEZONE for Europe/Oslo with the transitions between two days only.

    icalendar 7.3 writes the onset of summer time as the wall time after the change (03:00);
    RFC 5545 wants it in the offset before the change (02:00, TZOFFSETFROM +0100), so each
    onset is checked against the zone database and corrected where needed.
    """
    from icalendar import Timezone

    timezone = Timezone.from_tzid(TZID, first_date=first_date, last_date=last_date)
    for observance in timezone.subcomponents:
        offset_from = observance["TZOFFSETFROM"].td
        offset_to = observance["TZOFFSETTO"].td
        if offset_from == offset_to:
            continue
        start = observance["DTSTART"].dt
        rdates = observance.get("RDATE", [])
        rdates = [dt for item in (rdates if isinstance(rdates, list) else [rdates])
                  for dt in (d.dt for d in item.dts)]  # fmt: skip
        onsets = [_onset(v, offset_from, offset_to) for v in [start, *rdates]]
        if onsets != [start, *rdates]:
            del observance["DTSTART"]
            observance.add("dtstart", onsets[0])
            if rdates:
                del observance["RDATE"]
                observance.add("rdate", onsets[1:])
    return timezone


def _onset(local: datetime, offset_from: timedelta, offset_to: timedelta) -> datetime:
    """The local onset time of a transition, written in the offset in force before it."""
    for offset in (offset_from, offset_to):
        instant = (local - offset).replace(tzinfo=UTC)
        before = (instant - timedelta(seconds=1)).astimezone(OSLO).utcoffset()
        if before == offset_from and instant.astimezone(OSLO).utcoffset() == offset_to:
            return (instant + offset_from).replace(tzinfo=None)
    return local


def activity_url(base_url: str, activity: Activity) -> str:
    """The public page of an activity (a path from the public contract, DESIGN §5)."""
    return f"{base_url.rstrip('/')}/activities/{activity.id}"


def organisation_url(base_url: str, slug: str) -> str:
    """The public page of an organisation."""
    return f"{base_url.rstrip('/')}/organisations/{slug}"


def event_uid(activity: Activity, schedule: Schedule, host: str) -> str:
    """A UID that stays the same for a schedule row as long as it exists."""
    return f"activity-{activity.id}-schedule-{schedule.id}@{host}"


def _event(
    activity: Activity,
    schedule: Schedule,
    *,
    base_url: str,
    host: str,
    stamp: datetime,
    locale: str,
    cancelled_label: str,
    text: Any = None,
) -> Event:
    cancelled = activity.status == "cancelled"
    start = schedule.dtstart.replace(tzinfo=OSLO)
    # The end is an exact duration after the start, as the schedule's own expansion has it.
    end = (start.astimezone(UTC) + timedelta(minutes=schedule.duration_minutes)).astimezone(OSLO)
    page = activity_url(base_url, activity)
    if text is not None:
        page = f"{page}?content={text.language}"  # the page in the language of the event

    from icalendar import Event, vCalAddress, vRecur

    event = Event()
    event.add("uid", event_uid(activity, schedule, host))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    if schedule.rrule:
        event.add("rrule", vRecur.from_ical(utc_until(schedule.rrule)))
    rdates = parse_local_list(schedule.rdates)
    if rdates:
        event.add("rdate", [d.replace(tzinfo=OSLO) for d in rdates])
    exdates = parse_local_list(schedule.exdates)
    if exdates:
        event.add("exdate", [d.replace(tzinfo=OSLO) for d in exdates])
    own_title = text.title if text is not None else activity.title
    title = f"{cancelled_label}: {own_title}" if cancelled else own_title
    language = {"LANGUAGE": text.language} if text is not None else None
    event.add("summary", title, parameters=language)
    event.add("description", _description(activity, page, text), parameters=language)
    location = ", ".join(part for part in (activity.venue, activity.address) if part)
    if location:
        event.add("location", location)
    if activity.latitude is not None and activity.longitude is not None:
        event.add("geo", (float(activity.latitude), float(activity.longitude)))
    event.add("url", page)
    # The organiser by name only: no e-mail address is published. The value has to be a URI,
    # and the organisation's page is the one it has.
    organizer = vCalAddress(organisation_url(base_url, activity.organisation.slug))
    organizer.params["CN"] = activity.organisation.name
    event.add("organizer", organizer)
    if activity.category is not None:
        event.add("categories", [activity.category.name_in(locale)])
    event.add("last-modified", activity.updated_at.astimezone(UTC).replace(microsecond=0))
    event.add("sequence", activity.version)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("class", "PUBLIC")
    event.add("transp", "OPAQUE")
    return event


def _description(activity: Activity, page: str, text: Any = None) -> str:
    source = text if text is not None else activity
    parts = [source.summary.strip(), markdown_to_text(source.description)]
    if activity.status == "cancelled" and activity.cancellation_note:
        parts.insert(0, activity.cancellation_note.strip())
    parts.append(page)
    return "\n\n".join(part for part in parts if part)


_BLOCK_END = re.compile(r"</(p|h[1-6]|blockquote|pre|table|tr|ul|ol)>|<br\s*/?>|<hr\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def markdown_to_text(text: str | None) -> str:
    """User Markdown as plain text: paragraphs on their own lines, list items with bullets."""
    if not text or not text.strip():
        return ""
    rendered = str(render_markdown(text))
    rendered = re.sub(r"<li>\s*(<p>)?", "• ", rendered, flags=re.I)
    rendered = re.sub(r"(</p>\s*)?</li>\s*", "\n", rendered, flags=re.I)
    rendered = _BLOCK_END.sub("\n", rendered)
    plain = html.unescape(_TAG.sub("", rendered))
    lines = [line.rstrip() for line in plain.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _rule_parts(rrule: str) -> list[tuple[str, str]]:
    parts = []
    for item in rrule.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts.append((key.strip().upper(), value.strip()))
    return parts


def utc_until(rrule: str) -> str:
    """The RRULE with UNTIL in UTC, as RFC 5545 requires when DTSTART has a time zone.

    Stored rules already have it so; an Oslo-local or date-only UNTIL (from an older import) is
    converted, the date-only one to the end of that Oslo day.
    """
    out = []
    for key, value in _rule_parts(rrule):
        if key == "UNTIL" and not value.endswith("Z"):
            if "T" in value:
                local = datetime.strptime(value, "%Y%m%dT%H%M%S")
            else:
                local = datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time.max)
            instant = local.replace(tzinfo=OSLO, microsecond=0).astimezone(UTC)
            value = instant.strftime(UNTIL_UTC_FORMAT)
        out.append(f"{key}={value}")
    return ";".join(out)


def _schedule_last_date(schedule: Schedule, now: datetime) -> date:
    """The last Oslo day the schedule can happen on (or a horizon for an open-ended rule)."""
    dates = [schedule.dtstart.date()] + [d.date() for d in parse_local_list(schedule.rdates)]
    open_ended = False
    if schedule.rrule:
        parts = dict(_rule_parts(utc_until(schedule.rrule)))
        if "UNTIL" in parts:
            until = datetime.strptime(parts["UNTIL"], UNTIL_UTC_FORMAT).replace(tzinfo=UTC)
            dates.append(until.astimezone(OSLO).date())
        elif parts.get("COUNT", "").isdigit() and int(parts["COUNT"]) <= MAX_COUNTED:
            rule = rrulestr(schedule.rrule, dtstart=schedule.dtstart)
            dates.append(list(rule)[-1].date())
        else:
            open_ended = True
    # An occurrence may run past midnight into the following days.
    last = max(dates) + timedelta(days=schedule.duration_minutes // (24 * 60))
    if open_ended:
        year = max(now.astimezone(OSLO).year, schedule.dtstart.year) + OPEN_ENDED_YEARS
        last = max(last, date(year, 12, 31))
    return last


def timezone_bounds(activities: Iterable[Activity], now: datetime) -> tuple[date, date]:
    """The first and last day the VTIMEZONE must cover: whole years around every schedule.

    Without bounds icalendar writes every transition from 1970 to 2038.
    """
    firsts: list[date] = []
    lasts: list[date] = []
    for activity in activities:
        for schedule in activity.schedules:
            starts = [schedule.dtstart] + parse_local_list(schedule.rdates)
            firsts.append(min(starts).date())
            lasts.append(_schedule_last_date(schedule, now))
    this_year = now.astimezone(OSLO).year
    first_year = min(firsts).year if firsts else this_year
    last_year = max(lasts).year if lasts else this_year
    return date(first_year, 1, 1), date(last_year + 1, 1, 1)


def ics_filename(title: str) -> str:
    """A download file name for an activity's calendar file, e.g. 'fotball-for-jenter.ics'."""
    return f"{slugify(title, max_length=60)}.ics"


def webcal_url(url: str) -> str:
    """The webcal:// form of an http(s) calendar URL, which opens a subscription in most apps."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    return urlunsplit(("webcal", *parts[1:]))


@dataclass(frozen=True)
class CalendarLinks:
    """Links that open a new event in Google Calendar and in Outlook on the web.

    outlook is None when more than one date is left: Outlook on the web's link cannot carry a
    repeating rule, and a link that adds one session of a weekly activity would mislead.
    repeats says so; partial, that the activity has several schedules with dates left and the
    Google link carries the next one only (the .ics file has them all). subscribe is the
    webcal:// address of the activity's own calendar file, when the caller gave it.
    """

    google: str
    outlook: str | None
    repeats: bool
    partial: bool
    subscribe: str | None = None


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _link_details(activity: Activity, page: str) -> str:
    text = activity.summary.strip()
    if len(text) > MAX_LINK_DETAILS:
        text = text[: MAX_LINK_DETAILS - 1].rstrip() + "…"
    return f"{text}\n\n{page}" if text else page


def _upcoming(schedule: Schedule, now: datetime) -> list[Occurrence]:
    return list(occurrences(schedule, now, now + timedelta(days=LINK_HORIZON_DAYS)))


def _rule_from(schedule: Schedule, start: datetime) -> str:
    """The schedule's RRULE for a series that begins at `start`, one of the rule's own dates.

    UNTIL stays (in UTC); a COUNT becomes the number of the rule's dates still to come, so the
    shortened series ends where the stored one does.
    """
    parts = _rule_parts(utc_until(schedule.rrule))
    counted = [value for key, value in parts if key == "COUNT"]
    if counted and counted[0].isdigit():
        rule = rrulestr(utc_until(schedule.rrule), dtstart=schedule.dtstart.replace(tzinfo=OSLO))
        before = sum(1 for _ in takewhile(lambda d: d < start, rule))
        parts = [(k, str(int(v) - before) if k == "COUNT" else v) for k, v in parts]
    return ";".join(f"{key}={value}" for key, value in parts)


def google_recurrence(schedule: Schedule, now: datetime) -> tuple[Occurrence, list[str]] | None:
    """The schedule's next occurrence and the recurrence lines for the rest of it.

    The series starts at the next occurrence that has not ended, never at a past first date.
    Lines: the RRULE (from that start), an EXDATE for every called-off date of the rule still
    to come, an RDATE for every extra date. Times are UTC, as the link's `dates` are, so each
    names one instant; the event's zone (ctz) keeps a weekly 17:00 at 17:00 across DST.
    """
    upcoming = _upcoming(schedule, now)
    if not upcoming:
        return None
    rule = None
    rule_dates: set[datetime] = set()
    if schedule.rrule:
        rule = rrulestr(utc_until(schedule.rrule), dtstart=schedule.dtstart.replace(tzinfo=OSLO))
        last = upcoming[-1].start
        window_start = upcoming[0].start - timedelta(minutes=schedule.duration_minutes)
        rule_dates = {d.astimezone(UTC) for d in rule.between(window_start, last, inc=True)}
    on_rule = [o for o in upcoming if o.start.astimezone(UTC) in rule_dates]
    first = on_rule[0] if on_rule else upcoming[0]
    lines: list[str] = []
    # A rule with nothing after the first date left adds nothing to it.
    if rule is not None and on_rule and rule.after(first.start) is not None:
        lines.append("RRULE:" + _rule_from(schedule, first.start))
        lines += [
            f"EXDATE:{_utc_stamp(skipped.replace(tzinfo=OSLO))}"
            for skipped in parse_local_list(schedule.exdates)
            if skipped.replace(tzinfo=OSLO) > first.start
        ]
    lines += [f"RDATE:{_utc_stamp(o.start)}" for o in upcoming if o not in on_rule and o != first]
    return first, lines


def calendar_links(
    activity: Activity, *, activity_url: str, now: datetime, ics_url: str | None = None
) -> CalendarLinks | None:
    """Google Calendar and Outlook links from the activity's next occurrence, None when none is left.

    Google gets the schedule with the next occurrence, from that occurrence on, with its rule,
    its called-off dates (EXDATE) and extra dates (RDATE) in `recur`, one line each. Outlook on
    the web's link takes one start and end only, so it is offered for a single date only.
    """
    found = []
    for schedule in activity.schedules:
        series = google_recurrence(schedule, now)
        if series is not None:
            found.append((series[0].start, series, schedule))
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    _start, (first, lines), _schedule = found[0]
    remaining = activity_occurrences(
        [s for _s, _series, s in found], now, now + timedelta(days=LINK_HORIZON_DAYS)
    )
    repeats = len(remaining) > 1 or bool(lines)
    location = ", ".join(part for part in (activity.venue, activity.address) if part)
    details = _link_details(activity, activity_url)

    google: dict[str, str] = {
        "action": "TEMPLATE",
        "text": activity.title,
        "dates": f"{_utc_stamp(first.start)}/{_utc_stamp(first.end)}",
    }
    if lines:
        google["recur"] = "\n".join(lines)
    google["details"] = details
    if location:
        google["location"] = location
    google["ctz"] = TZID

    outlook_link = None
    if not repeats:
        outlook: dict[str, str] = {
            # path and rru make outlook.live.com open the new-event form rather than the calendar.
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": activity.title,
            "startdt": _utc_iso(first.start),
            "enddt": _utc_iso(first.end),
            "body": details,
        }
        if location:
            outlook["location"] = location
        outlook_link = f"{OUTLOOK_CALENDAR}?{urlencode(outlook)}"
    return CalendarLinks(
        google=f"{GOOGLE_CALENDAR}?{urlencode(google)}",
        outlook=outlook_link,
        repeats=repeats,
        partial=len(found) > 1,
        subscribe=webcal_url(ics_url) if ics_url else None,
    )
