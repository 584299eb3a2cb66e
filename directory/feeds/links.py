"""Absolute links to an activity's calendar buttons and to a search's feeds, for any page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from directory.activities.models import Activity
from directory.calendar import calendar_links, webcal_url
from directory.search.query import SearchQuery, query_to_args
from directory.timeutil import utcnow


def host_url() -> str:
    """Scheme and host for absolute links: PUBLIC_BASE_URL when set, else this request's."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def absolute(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint`, on the public host."""
    return host_url() + url_for(endpoint, **values)


def activity_calendar_links(activity: Activity):
    """Google Calendar and Outlook links for an activity page (None when no date is left)."""
    page = absolute("activities.show_activity", activity_id=activity.id)
    return calendar_links(activity, activity_url=page, now=utcnow())


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
    calendar = absolute("feeds.calendar_feed", **args)
    return FeedUrls(
        calendar=calendar,
        webcal=webcal_url(calendar),
        atom=absolute("feeds.atom_feed", **args),
        embed=absolute("feeds.embed", **args),
    )


def filter_args(query: SearchQuery) -> dict[str, object]:
    """The query's filters as URL parameters, without paging and sorting."""
    return query_to_args(query, sort=None, page=None, per_page=None)
