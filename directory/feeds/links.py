"""Absolute links to an activity's calendar buttons and to a search's feeds, for any page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from directory.activities.models import Activity
from directory.calendar import calendar_links, webcal_url
from directory.search.query import SearchQuery, query_to_args
from directory.timeutil import utcnow
from directory.urls import absolute_url


def activity_calendar_links(activity: Activity, *, now: datetime | None = None):
    """Google Calendar and Outlook links and the webcal subscription for an activity page,
    from its next date after `now` (the current time by default).

    None when no date is left.
    """
    page = absolute_url("activities.show_activity", activity_id=activity.id)
    ics = absolute_url("feeds.activity_ics", activity_id=activity.id)
    return calendar_links(activity, activity_url=page, now=now or utcnow(), ics_url=ics)


@dataclass(frozen=True)
class FeedUrls:
    """Where the current search is available as a calendar, a subscription, a feed, a widget."""

    calendar: str
    webcal: str
    atom: str
    embed: str


def feed_urls(query: SearchQuery | None = None) -> FeedUrls:
    """Absolute URLs of the calendar, webcal subscription, Atom feed and widget for a search."""
    args = filter_args(query) if query is not None else {}
    calendar = absolute_url("feeds.calendar_feed", **args)
    return FeedUrls(
        calendar=calendar,
        webcal=webcal_url(calendar),
        atom=absolute_url("feeds.atom_feed", **args),
        embed=absolute_url("feeds.embed", **args),
    )


def filter_args(query: SearchQuery) -> dict[str, object]:
    """The query's filters as URL parameters, without paging and sorting."""
    return query_to_args(query, sort=None, page=None, per_page=None)
