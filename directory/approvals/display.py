"""Showing routing decisions: ISO weeks as people pick them, channel names in words.

Shared by the organiser's "Nå ut via skolene" page, the API and the `route` command, so the
three read weeks the same way and agree on every decision; and the request lists' status links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from directory.i18n import gettext as _
from directory.policy.request_states import STATE_NAMES, STATES
from directory.schools.routing import iso_week
from directory.timeutil import oslo_now
from directory.weeks import parse_week as parse_week  # shared with the API and the CLI
from directory.weeks import week_monday as week_monday

WEEKS_AHEAD = 3  # upcoming_weeks: this week and the next three


def week_error() -> str:
    """The message for a week that is not an ISO week."""
    return _("Uken må skrives som år og ukenummer, for eksempel 2026-W48.")


def upcoming_weeks(today: date | None = None) -> list[str]:
    """This ISO week and the next WEEKS_AHEAD, in order."""
    today = today or oslo_now().date()
    return [iso_week(today + timedelta(weeks=n)) for n in range(WEEKS_AHEAD + 1)]


def week_label(week: str) -> str:
    """'Uke 48 (23. november)' for the week select."""
    from flask_babel import format_date

    number = int(week.split("-W")[1])
    return _(
        "Uke %(number)s (fra %(date)s)",
        number=number,
        date=format_date(week_monday(week), _("d. MMMM y")),
    )


def channel_label(channel: str, messaging_label: str) -> str:
    """A channel in words for organisers and parents."""
    labels = {
        "school_messaging": _("Skolens meldingsapp (%(label)s)", label=messaging_label),
        "facebook_share": _("Deling på skolens Facebook-side"),
        "backpack_post": _("Ranselpost (papirflyer)"),
        "directory_only": _("Bare i katalogen"),
        "not_eligible": _("Ikke gjennom denne skolen"),
    }
    return labels[channel]


def change_labels(changes: list[str]) -> list[str]:
    """The activity fields an edit changed, in words, in the order of the activity form."""
    labels = {
        "title": _("tittel"),
        "summary": _("kort beskrivelse"),
        "description": _("beskrivelse"),
        "category_id": _("kategori"),
        "tags": _("stikkord"),
        "age_min": _("alder"),
        "age_max": _("alder"),
        "schedule": _("tidspunkt"),
        "price_nok": _("pris"),
        "price_note": _("pris"),
        "venue": _("sted"),
        "address": _("adresse"),
        "latitude": _("kartposisjon"),
        "longitude": _("kartposisjon"),
        "accessibility": _("tilgjengelighet"),
        "accessible": _("tilgjengelighet"),
        "languages": _("språk"),
        "registration_url": _("påmelding"),
        "capacity": _("antall plasser"),
        "image_filename": _("bilde"),
        "image_alt": _("bilde"),
        "flyer_filename": _("flyer"),
        "facebook_post_url": _("Facebook-innlegg"),
        "school_business": _("skolesak"),
        "status": _("status"),
        "cancellation_note": _("status"),
    }
    order = list(labels)
    known = sorted((c for c in changes if c in labels), key=order.index)
    seen: list[str] = []
    for change in known:
        if labels[change] not in seen:
            seen.append(labels[change])
    other = _("annet")
    if any(c not in labels for c in changes) and other not in seen:
        seen.append(other)
    return seen


def grades_text(grades: Iterable[int]) -> str:
    """Grades in words with runs joined: [3, 4, 5, 7] -> '3.–5. og 7. trinn' ('' for none)."""
    runs: list[list[int]] = []
    for grade in sorted(set(grades)):
        if runs and grade == runs[-1][1] + 1:
            runs[-1][1] = grade
        else:
            runs.append([grade, grade])

    def ordinal(number: int) -> str:
        return _("%(number)s.", number=number)  # "3." in Norwegian, "3" in English

    parts = [
        ordinal(first) if first == last else f"{ordinal(first)}–{ordinal(last)}"
        for first, last in runs
    ]
    if not parts:
        return ""
    if len(parts) == 1:
        joined = parts[0]
    else:
        joined = _("%(first)s og %(last)s", first=", ".join(parts[:-1]), last=parts[-1])
    return _("%(grades)s trinn", grades=joined)


def status_tabs(counts: dict[str, int], link: Callable[[str], str]) -> list[dict]:
    """A request list's status links: each state and "alle", with its count and its URL."""
    tabs = [
        {"state": state, "label": _(STATE_NAMES[state]), "count": counts[state], "url": link(state)}
        for state in STATES
    ]
    tabs.append(
        {"state": "all", "label": _("alle"), "count": sum(counts.values()), "url": link("all")}
    )
    return tabs
