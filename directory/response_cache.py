"""The cache of anonymous answers: public pages and API answers kept for visitors without a
session, named by the URL, the public data's version and the minute.

A visitor with no session cookie sees the same public page as every other such visitor, so the
answer made for one serves the next: the cache keeps it under the host, the path with its query
string (the language is in it: ?lang=), the public data's version (directory.data_version, which
every commit changing public data raises: an edit shows at once on every host) and a time bucket
of RESPONSE_CACHE_SECONDS (the next start and the "has ended" of what a page lists move with the
clock). A hit costs one query, the version's. Each cached answer has an ETag; a client that has
it gets a 304.

Never cached: a request with a session cookie or an Authorization header, anything but GET, an
endpoint not listed in CACHEABLE, an answer other than 200, an answer that sets a cookie or says
no-store. The cache lives in each process (RESPONSE_CACHE_MAX_BYTES, least recently used first
out); it holds no personal data, and a second host simply makes its own.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request

from directory import data_version

# Public GET endpoints whose answer depends only on the URL and the public data.
CACHEABLE = frozenset(
    {
        "activities.home",
        "activities.search",
        "activities.show_activity",
        "organisations.list_organisations",
        "organisations.show_organisation",
        "venues.show_venue",
        "api.list_activities",
        "api.show_activity",
        "api.list_categories",
        "api.list_organisations",
        "api.list_schools",
        "api.list_venues",
        "findable.sitemap",
    }
)
# Headers that belong to one answer or one client, never replayed.
PER_ANSWER_HEADERS = frozenset(
    {"set-cookie", "date", "content-length", "etag", "retry-after", "x-ratelimit-limit",
     "x-ratelimit-remaining", "x-ratelimit-reset"}
)  # fmt: skip
EXTENSION_KEY = "directory.response_cache"


@dataclass(frozen=True)
class Entry:
    """One cached answer."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class ResponseCache:
    """A bounded least-recently-used map of answers, safe across threads."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        if entry.size > self.max_bytes // 4:  # one answer never crowds out the rest
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self._entries[key] = entry
            self.size += entry.size
            while self.size > self.max_bytes and self._entries:
                _key, dropped = self._entries.popitem(last=False)
                self.size -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


def cache_of(app: Flask) -> ResponseCache:
    """The app's cache in this process."""
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = ResponseCache(int(app.config.get("RESPONSE_CACHE_MAX_BYTES", 32 * 1024 * 1024)))
        app.extensions[EXTENSION_KEY] = cache
    return cache


def _key() -> str | None:
    """The cache key of this request, or None when it must not be cached."""
    config = current_app.config
    if not config.get("RESPONSE_CACHE") or request.method != "GET":
        return None
    if request.endpoint not in CACHEABLE:
        return None
    if config["SESSION_COOKIE_NAME"] in request.cookies or "Authorization" in request.headers:
        return None
    version, _changed = data_version.current()
    bucket = int(time.time() // max(1, int(config.get("RESPONSE_CACHE_SECONDS", 60))))
    material = repr((request.host, request.script_root, request.full_path, version, bucket))
    return hashlib.sha256(material.encode()).hexdigest()


def _answer_from_cache():
    key = _key()
    g.response_cache_key = key
    if key is None:
        return None
    entry = cache_of(current_app).get(key)
    if entry is None:
        return None
    response = Response(entry.body, headers=list(entry.headers))
    response.set_etag(entry.etag, weak=True)
    g.response_cache_hit = True
    return response.make_conditional(request)


def _keep(response: Response) -> Response:
    key = g.pop("response_cache_key", None)
    if key is None or g.pop("response_cache_hit", False):
        return response
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or response.cache_control.no_store
    ):
        return response
    etag = f"rc-{key[:32]}"
    headers = tuple(
        (name, value)
        for name, value in response.headers.items()
        if name.lower() not in PER_ANSWER_HEADERS
    )
    cache_of(current_app).put(key, Entry(response.get_data(), headers, etag))
    response.set_etag(etag, weak=True)
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Answer from the cache before the view runs, and keep what the view answered."""
    app.before_request(_answer_from_cache)
    app.after_request(_keep)
