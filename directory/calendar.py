"""Activities as iCalendar (RFC 5545), and links that add one to Google Calendar or Outlook.

A pure serializer: no request, no database session. The caller passes in the activities (with
their schedules, organisation and category loaded), the site's base URL and the current time.
Schedules are stored in iCalendar terms already (Oslo wall time, RRULE with UNTIL in UTC,
RDATE/EXDATE lists), so each Schedule row becomes one VEVENT almost as it is.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import takewhile
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from dateutil.rrule import rrulestr

from directory.activities.schedule import (
    UNTIL_UTC_FORMAT,
    Occurrence,
    next_occurrences,
    occurrences,
    parse_local_list,
)
from directory.rendering import render_markdown
from directory.text import slugify
from directory.timeutil import OSLO

if TYPE_CHECKING:
    # icalendar is imported by the functions that write a calendar: the activity page wants
    # only the links below, and a worker serving pages need not load it.
    from icalendar import Timezone

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
# RFC 5545 folds content lines longer than 75 octets; like icalendar, we cut at 74.
FOLD_OCTETS = 74
# Plain-text descriptions remembered per process: a full feed is 500, the filtered ones overlap.
DESCRIPTION_CACHE_SIZE = 2000


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
    this_year = now.astimezone(OSLO).year
    events = [
        activity_events(
            activity,
            base_url=base_url,
            this_year=this_year,
            locale=locale,
            cancelled_label=cancelled_label,
            text=(texts or {}).get(activity.id),
        )
        for activity in activities
    ]
    return calendar_of(events, now=now, name=name, refresh_interval=refresh_interval)


@dataclass(frozen=True)
class Events:
    """One activity's VEVENTs as text, written once: a feed keeps them (directory.feeds) and
    puts in the time of writing (DTSTAMP) when it assembles a calendar.

    pieces are the content lines between the DTSTAMP lines, each piece's lines joined by CRLF
    (one piece more than there are events; none without schedules); years are the first and
    last year the schedules can happen in, for the VTIMEZONE's bounds (None without schedules).
    """

    pieces: tuple[str, ...]
    years: tuple[int, int] | None


def activity_events(
    activity: Activity,
    *,
    base_url: str,
    this_year: int,
    locale: str = "nb",
    cancelled_label: str = "Avlyst",
    text: Any = None,
) -> Events:
    """The activity's VEVENTs (see activity_calendar()), written as text: icalendar's generic
    property machinery cost ten times more than the events themselves for a feed of 500."""
    base_url = base_url.rstrip("/")
    host = urlsplit(base_url).hostname or "localhost"
    lines: list[str] = []
    for schedule in activity.schedules:
        _event_lines(
            lines,
            activity,
            schedule,
            base_url=base_url,
            host=host,
            stamp=_STAMP_MARK,
            locale=locale,
            cancelled_label=cancelled_label,
            text=text,
        )
    pieces: list[str] = []
    piece: list[str] = []
    for line in lines:
        if line is _STAMP_LINE:
            pieces.append("\r\n".join(piece))
            piece = []
        else:
            piece.append(line)
    if lines:
        pieces.append("\r\n".join(piece))
    return Events(tuple(pieces), _years(activity.schedules, this_year))


def calendar_of(
    events: Iterable[Events],
    *,
    now: datetime,
    name: str = "Aktivitetskatalogen",
    refresh_interval: timedelta | None = None,
) -> bytes:
    """The VCALENDAR of these activities' events, written at `now` (the DTSTAMP)."""
    events = list(events)
    first, last = _bounds([e.years for e in events], now.astimezone(OSLO).year)
    stamp_line = f"\r\nDTSTAMP:{_utc_stamp(now.replace(microsecond=0))}\r\n"
    body = [stamp_line.join(e.pieces) for e in events if e.pieces]
    body.append("END:VCALENDAR\r\n")
    head = _calendar_head(" ".join(name.split()), refresh_interval, first, last)
    return head + "\r\n".join(body).encode()


_STAMP_MARK = "(written when assembled)"
_STAMP_LINE = f"DTSTAMP:{_STAMP_MARK}"  # the very object _event_lines() appends for it


@lru_cache(maxsize=64)
def _calendar_head(name: str, refresh_interval: timedelta | None, first: date, last: date) -> bytes:
    """The VCALENDAR's own properties and its VTIMEZONE, up to where the events begin."""
    from icalendar import Calendar, vText

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", vText(name))  # a calendar's name is one line (the caller made it so)
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", TZID)
    if refresh_interval is not None:
        calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh_interval)
    # Always present: it keeps an empty feed a valid calendar (one component at least), and it
    # comes before the events that refer to it, which some clients expect.
    calendar.add_component(oslo_timezone(first, last))
    body = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    if not body.endswith(end):  # pragma: no cover - icalendar always ends so
        raise ValueError("unexpected end of an icalendar calendar")
    return body[: -len(end)]


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


def _event_lines(
    lines: list[str],
    activity: Activity,
    schedule: Schedule,
    *,
    base_url: str,
    host: str,
    stamp: str,
    locale: str,
    cancelled_label: str,
    text: Any = None,
) -> None:
    """Append one VEVENT's content lines, folded, in the order icalendar writes them.

    That order is the VEVENT's canonical properties first, then the others alphabetically.
    """
    cancelled = activity.status == "cancelled"
    start = schedule.dtstart.replace(tzinfo=OSLO)
    # The end is an exact duration after the start, as the schedule's own expansion has it.
    end = (start.astimezone(UTC) + timedelta(minutes=schedule.duration_minutes)).astimezone(OSLO)
    page = activity_url(base_url, activity)
    if text is not None:
        page = f"{page}?content={text.language}"  # the page in the language of the event
    language = f";LANGUAGE={_param(text.language)}" if text is not None else ""
    own_title = text.title if text is not None else activity.title
    title = f"{cancelled_label}: {own_title}" if cancelled else own_title

    add = lines.append
    add("BEGIN:VEVENT")
    add(_fold(f"SUMMARY{language}:{_escape(title)}"))
    add(f"DTSTART;TZID={TZID}:{_local_stamp(start)}")
    add(f"DTEND;TZID={TZID}:{_local_stamp(end)}")
    add(_STAMP_LINE if stamp is _STAMP_MARK else f"DTSTAMP:{stamp}")
    add(_fold(f"UID:{_escape(event_uid(activity, schedule, host))}"))
    add(f"SEQUENCE:{activity.version}")
    if schedule.rrule:
        add(_fold(f"RRULE:{_ical_rrule(schedule.rrule)}"))
    for key, values in (("RDATE", schedule.rdates), ("EXDATE", schedule.exdates)):
        if values and values.strip():
            add(_fold(f"{key};TZID={TZID}:{_ical_dates(values)}"))
    if activity.category is not None:
        add(_fold(f"CATEGORIES:{_escape(activity.category.name_in(locale))}"))
    add("CLASS:PUBLIC")
    add(_fold(f"DESCRIPTION{language}:{_escape(_description(activity, page, text))}"))
    if activity.latitude is not None and activity.longitude is not None:
        add(f"GEO:{float(activity.latitude)};{float(activity.longitude)}")
    modified = activity.updated_at.astimezone(UTC).replace(microsecond=0)
    add(f"LAST-MODIFIED:{_utc_stamp(modified)}")
    location = ", ".join(part for part in (activity.venue, activity.address) if part)
    if location:
        add(_fold(f"LOCATION:{_escape(location)}"))
    # The organiser by name only: no e-mail address is published. The value has to be a URI,
    # and the organisation's page is the one it has.
    organiser = activity.organisation
    cn = _param(organiser.name, quote_if=" '")
    add(_fold(f"ORGANIZER;CN={cn}:{organisation_url(base_url, organiser.slug)}"))
    add("STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED")
    add("TRANSP:OPAQUE")
    add(_fold(f"URL:{page}"))
    add("END:VEVENT")


def _local_stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _escape(value: str) -> str:
    """A TEXT value escaped as RFC 5545 §3.3.11 wants (and as icalendar does it)."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


_PARAM_ESCAPES = {"^": "^^", '"': "^'"}  # RFC 6868; any line break becomes ^n
_PARAM_SPECIAL = re.compile(r'\^|\r\n|\r|\n|"')
_PARAM_QUOTABLE = re.compile("[,;:\u2019]")


def _param(value: str, quote_if: str = "") -> str:
    """A parameter value, RFC 6868-escaped and quoted where needed (icalendar's rules)."""
    quote = any(c in value for c in quote_if)
    value = _PARAM_SPECIAL.sub(lambda m: _PARAM_ESCAPES.get(m.group(0), "^n"), value)
    return f'"{value}"' if quote or _PARAM_QUOTABLE.search(value) else value


def _fold(line: str) -> str:
    """A content line folded into pieces of at most 74 octets, never inside a character.

    The same cuts icalendar makes: a backslash or caret that would end a piece (and so part
    an escape from what it escapes) moves to the next piece.
    """
    data = line.encode()
    if len(data) <= FOLD_OCTETS:
        return line
    pieces = []
    begin = 0
    while len(data) - begin > FOLD_OCTETS:
        cut = begin + FOLD_OCTETS
        while data[cut] & 0xC0 == 0x80:  # inside a UTF-8 sequence
            cut -= 1
        if data[cut - 1] in b"\\^" and cut - 1 > begin:
            cut -= 1
        pieces.append(data[begin:cut])
        begin = cut
    pieces.append(data[begin:])
    return b"\r\n ".join(pieces).decode()


@lru_cache(maxsize=1024)
def _ical_dates(values: str) -> str:
    """A stored list of local times as an RDATE or EXDATE value."""
    return ",".join(_local_stamp(d) for d in parse_local_list(values))


@lru_cache(maxsize=1024)
def _ical_rrule(rrule: str) -> str:
    """A stored RRULE as icalendar writes it (UNTIL in UTC, parts in its order)."""
    from icalendar import vRecur

    return vRecur.from_ical(utc_until(rrule)).to_ical().decode()


def _description(activity: Activity, page: str, text: Any = None) -> str:
    source = text if text is not None else activity
    parts = [source.summary.strip(), description_text(source.description)]
    if activity.status == "cancelled" and activity.cancellation_note:
        parts.insert(0, activity.cancellation_note.strip())
    parts.append(page)
    return "\n\n".join(part for part in parts if part)


_DESCRIPTIONS: OrderedDict[bytes, str] = OrderedDict()
_DESCRIPTIONS_LOCK = threading.Lock()


def description_text(markdown: str | None) -> str:
    """markdown_to_text, remembered per text in this process (a bounded LRU).

    Keyed by a digest of the Markdown itself rather than by the activity's id and version: a
    translation's text changes without the activity's version, and a bulk UPDATE bypasses the
    version counter; a digest can never serve a stale text.
    """
    if not markdown or not markdown.strip():
        return ""
    key = hashlib.blake2b(markdown.encode(), digest_size=16).digest()
    with _DESCRIPTIONS_LOCK:
        found = _DESCRIPTIONS.get(key)
        if found is not None:
            _DESCRIPTIONS.move_to_end(key)
            return found
    plain = markdown_to_text(markdown)
    with _DESCRIPTIONS_LOCK:
        _DESCRIPTIONS[key] = plain
        while len(_DESCRIPTIONS) > DESCRIPTION_CACHE_SIZE:
            _DESCRIPTIONS.popitem(last=False)
    return plain


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


@lru_cache(maxsize=4096)
def _schedule_span(
    dtstart: datetime, duration_minutes: int, rrule: str, rdates: str, this_year: int
) -> tuple[date, date]:
    """The first and last Oslo day a schedule can happen on (a horizon for an open-ended rule).

    Remembered per schedule's values: a feed asks for the same few hundred again and again.
    """
    starts = [dtstart] + parse_local_list(rdates)
    dates = [d.date() for d in starts]
    open_ended = False
    if rrule:
        parts = dict(_rule_parts(utc_until(rrule)))
        if "UNTIL" in parts:
            until = datetime.strptime(parts["UNTIL"], UNTIL_UTC_FORMAT).replace(tzinfo=UTC)
            dates.append(until.astimezone(OSLO).date())
        elif parts.get("COUNT", "").isdigit() and int(parts["COUNT"]) <= MAX_COUNTED:
            dates.append(_counted_last_date(rrule, dtstart))
        else:
            open_ended = True
    # An occurrence may run past midnight into the following days.
    last = max(dates) + timedelta(days=duration_minutes // (24 * 60))
    if open_ended:
        year = max(this_year, dtstart.year) + OPEN_ENDED_YEARS
        last = max(last, date(year, 12, 31))
    return min(starts).date(), last


_STEP_DAYS = {"DAILY": 1, "WEEKLY": 7}


@lru_cache(maxsize=4096)
def _counted_last_date(rrule: str, dtstart: datetime) -> date:
    """The last local day of a rule with a COUNT.

    A daily or weekly rule with nothing but an INTERVAL beside it repeats every so many days
    from DTSTART (wall time), so its last day is counted, not expanded; any other rule is.
    """
    parts = dict(_rule_parts(rrule))
    count = int(parts["COUNT"])
    interval = parts.get("INTERVAL", "1")
    if (
        parts.keys() <= {"FREQ", "COUNT", "INTERVAL", "WKST"}
        and parts.get("FREQ") in _STEP_DAYS
        and count >= 1
        and interval.isdigit()
        and int(interval) >= 1
    ):
        step = _STEP_DAYS[parts["FREQ"]] * int(interval)
        return dtstart.date() + timedelta(days=(count - 1) * step)
    return list(rrulestr(rrule, dtstart=dtstart))[-1].date()


def timezone_bounds(activities: Iterable[Activity], now: datetime) -> tuple[date, date]:
    """The first and last day the VTIMEZONE must cover: whole years around every schedule.

    Without bounds icalendar writes every transition from 1970 to 2038.
    """
    this_year = now.astimezone(OSLO).year
    return _bounds([_years(a.schedules, this_year) for a in activities], this_year)


def _years(schedules: Iterable[Schedule], this_year: int) -> tuple[int, int] | None:
    """The first and last year these schedules can happen in (None without schedules)."""
    spans = [
        _schedule_span(s.dtstart, s.duration_minutes, s.rrule, s.rdates, this_year)
        for s in schedules
    ]
    if not spans:
        return None
    return min(first for first, _last in spans).year, max(last for _first, last in spans).year


def _bounds(years: Iterable[tuple[int, int] | None], this_year: int) -> tuple[date, date]:
    """timezone_bounds() of the activities whose _years() these are."""
    found = [y for y in years if y is not None]
    first_year = min(first for first, _last in found) if found else this_year
    last_year = max(last for _first, last in found) if found else this_year
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


@dataclass(frozen=True)
class _ExtraDates:
    """A schedule's explicit dates alone, its RDATEs less its EXDATEs: a schedule with no rule."""

    dtstart: datetime
    duration_minutes: int
    rdates: str
    exdates: str
    rrule: str = ""


def _extra_occurrences(schedule: Schedule, now: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences overlapping [now, end) that come from the schedule's explicit dates.

    Those are its RDATEs, and its DTSTART when it has no rule: a short list, expanded whole by
    occurrences() as a schedule of its own (the same EXDATEs, duration and window).
    """
    if not schedule.rrule:
        return list(occurrences(schedule, now, end))
    extra = parse_local_list(schedule.rdates)
    if not extra:
        return []
    dates = _ExtraDates(extra[0], schedule.duration_minutes, schedule.rdates, schedule.exdates)
    return list(occurrences(dates, now, end))


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

    "Upcoming" is every occurrence overlapping the next LINK_HORIZON_DAYS, but it is never
    expanded whole (issue 16): an occurrence off the rule can only be an explicit date, so
    those are expanded alone, and the rule is walked from now only as far as its first date.
    """
    end = now + timedelta(days=LINK_HORIZON_DAYS)
    extras = _extra_occurrences(schedule, now, end)
    if not schedule.rrule:
        if not extras:
            return None
        return extras[0], [f"RDATE:{_utc_stamp(o.start)}" for o in extras[1:]]
    # At most the extra dates are off the rule: the first len(extras) + 1 upcoming occurrences
    # hold the first one on it, when there is one.
    head = next_occurrences(
        [schedule], after=now, limit=len(extras) + 1, horizon_days=LINK_HORIZON_DAYS
    )
    if not head:
        return None
    rule = rrulestr(utc_until(schedule.rrule), dtstart=schedule.dtstart.replace(tzinfo=OSLO))
    # On the rule: the instant of one of the rule's dates from the first upcoming start less
    # the duration to the last upcoming start (Oslo wall times). An extra date is on it when it
    # is one of the rule's dates, or names the same instant as one (a wall time that summer
    # time skips does), an hour either way at most.
    low = head[0].start - timedelta(minutes=schedule.duration_minutes)
    extra_starts = {o.start for o in extras}
    last: list[datetime] = []

    def before_last(moment: datetime) -> bool:
        if not last:  # only a skipped wall time an hour before a rule's date needs it
            last.append(list(occurrences(schedule, now, end))[-1].start)
        return moment <= last[0]

    def on_rule(o: Occurrence) -> bool:
        if o.start not in extra_starts:
            return True  # one of the rule's own dates
        instant = o.start.astimezone(UTC)
        hour = timedelta(hours=1)
        return any(
            d >= low and (d <= o.start or before_last(d))
            for d in rule.between(o.start - hour, o.start + hour, inc=True)
            if d.astimezone(UTC) == instant
        )

    first = next((o for o in head if on_rule(o)), None)
    lines: list[str] = []
    # A rule with nothing after the first date left adds nothing to it.
    if first is not None and rule.after(first.start) is not None:
        lines.append("RRULE:" + _rule_from(schedule, first.start))
        lines += [
            f"EXDATE:{_utc_stamp(skipped.replace(tzinfo=OSLO))}"
            for skipped in parse_local_list(schedule.exdates)
            if skipped.replace(tzinfo=OSLO) > first.start
        ]
    first = first or head[0]
    lines += [f"RDATE:{_utc_stamp(o.start)}" for o in extras if o != first and not on_rule(o)]
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
    # Whether a second date is left, over all the schedules: each is walked to two at most.
    schedules = [s for _s, _series, s in found]
    left = next_occurrences(schedules, after=now, limit=2, horizon_days=LINK_HORIZON_DAYS)
    repeats = bool(lines) or len(left) > 1
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
