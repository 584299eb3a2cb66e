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
no-store, an answer that varies on a request header its endpoint's key does not hold (Vary).

Where the answers are kept: in each process by default (ResponseCache: RESPONSE_CACHE_MAX_BYTES,
least recently used first out; a second worker or host makes its own), or, with
RESPONSE_CACHE_URL (redis://host:port/db), in the Redis that every worker and host shares
(RedisCache: each answer under "directory:answer:<key>" for twice RESPONSE_CACHE_SECONDS; the
operator bounds that Redis with maxmemory and allkeys-lru, best one of its own, not the rate
limits'). Redis unreachable or failing is a miss: the page is made as without a cache, Redis
is left alone for a few seconds and the log warns at most once a minute. Neither holds personal
data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import time
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, Response, current_app, g, request

from directory import data_version
from directory.shelf import Shelf

# Public GET endpoints whose answer depends only on the URL and the public data, and on the
# request headers named here (each such answer is kept under those headers' values too: the
# activity page's link back to the search the visitor came from is made from the Referer).
CACHEABLE: dict[str, tuple[str, ...]] = {
    "activities.home": (),
    "activities.search": (),
    "activities.show_activity": ("Referer",),
    "organisations.list_organisations": (),
    "organisations.show_organisation": (),
    "venues.show_venue": (),
    "api.list_activities": (),
    "api.show_activity": (),
    "api.list_categories": (),
    "api.list_organisations": (),
    "api.list_schools": (),
    "api.list_venues": (),
    "findable.sitemap": (),
}
# What an anonymous answer may vary on besides: a session cookie (none here, or no caching).
ALWAYS_SAME = frozenset({"cookie"})
# Headers that belong to one answer or one client, never replayed.
PER_ANSWER_HEADERS = frozenset(
    {"set-cookie", "date", "content-length", "etag", "retry-after", "x-ratelimit-limit",
     "x-ratelimit-remaining", "x-ratelimit-reset"}
)  # fmt: skip
EXTENSION_KEY = "directory.response_cache"
REDIS_PREFIX = "directory:answer:"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One cached answer."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class AnswerCache(Protocol):
    """What both kinds of cache offer."""

    def get(self, key: str) -> Entry | None: ...

    def put(self, key: str, entry: Entry) -> None: ...

    def clear(self) -> None: ...


def encode_entry(entry: Entry) -> bytes:
    """The entry as bytes: a 4-byte length, the JSON of its ETag and headers, then the body."""
    head = json.dumps({"etag": entry.etag, "headers": entry.headers}, separators=(",", ":"))
    head_bytes = head.encode()
    return struct.pack(">I", len(head_bytes)) + head_bytes + entry.body


def decode_entry(raw: bytes) -> Entry:
    """The entry encode_entry() made; ValueError for anything else."""
    if len(raw) < 4:
        raise ValueError("answer cache entry too short")
    (length,) = struct.unpack(">I", raw[:4])
    if 4 + length > len(raw):
        raise ValueError("answer cache entry cut short")
    try:
        head = json.loads(raw[4 : 4 + length])
        etag = head["etag"]
        headers = tuple((name, value) for name, value in head["headers"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"answer cache entry unreadable: {exc}") from exc
    if not isinstance(etag, str) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers
    ):
        raise ValueError("answer cache entry unreadable")
    return Entry(raw[4 + length :], headers, etag)


class ResponseCache(Shelf[Entry]):
    """The answers kept in this process: at most `max_bytes` of them, the least recently used
    out first (directory.shelf), safe across threads."""

    def __init__(self, max_bytes: int):
        super().__init__(max_weight=max_bytes, weigh=lambda entry: entry.size)
        self.max_bytes = max_bytes

    @property
    def size(self) -> int:
        """The bytes kept."""
        return self.weight

    def put(self, key: str, entry: Entry) -> None:
        if entry.size > self.max_bytes // 4:  # one answer never crowds out the rest
            return
        super().put(key, entry)


class RedisCache:
    """Answers in a Redis that every worker and host shares, each for `ttl` seconds.

    Any failure of Redis (refused, timed out, an error, an entry it cannot read back) is a miss
    or a put not made: the caller makes the page as without a cache. After a failure Redis is
    not asked again for BACKOFF_SECONDS, so that no request waits on a server that is down, and
    the log warns at most once per WARNING_INTERVAL_SECONDS.
    """

    TIMEOUT_SECONDS = 0.25
    BACKOFF_SECONDS = 5.0
    WARNING_INTERVAL_SECONDS = 60.0

    def __init__(self, url: str, ttl: int, max_entry_bytes: int, prefix: str = REDIS_PREFIX):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.ttl = max(1, int(ttl))
        self.max_entry_bytes = max_entry_bytes
        self.prefix = prefix
        self._errors = (redis.RedisError, OSError, ValueError)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=self.TIMEOUT_SECONDS,
            socket_connect_timeout=self.TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        self._resting_until = 0.0
        self._next_warning = 0.0

    def get(self, key: str) -> Entry | None:
        if self._resting():
            return None
        try:
            raw = self._client.get(self.prefix + key)
        except self._errors as exc:
            self._failed("read", exc)
            return None
        if raw is None:
            return None
        try:
            return decode_entry(raw)
        except ValueError as exc:  # not an entry of ours: a miss, and made again
            self._failed("read", exc)
            return None

    def put(self, key: str, entry: Entry) -> None:
        if entry.size > self.max_entry_bytes or self._resting():
            return
        try:
            self._client.set(self.prefix + key, encode_entry(entry), ex=self.ttl)
        except self._errors as exc:
            self._failed("write", exc)

    def clear(self) -> None:
        """Delete this cache's answers (only those under its prefix)."""
        try:
            batch = []
            for name in self._client.scan_iter(match=self.prefix + "*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self._client.delete(*batch)
                    batch.clear()
            if batch:
                self._client.delete(*batch)
        except self._errors as exc:
            self._failed("clear", exc)

    def _resting(self) -> bool:
        return time.monotonic() < self._resting_until

    def _failed(self, action: str, exc: Exception) -> None:
        now = time.monotonic()
        self._resting_until = now + self.BACKOFF_SECONDS
        if now >= self._next_warning:
            self._next_warning = now + self.WARNING_INTERVAL_SECONDS
            log.warning(
                "answer cache: Redis failed to %s (%s: %s); pages are made without the cache, "
                "Redis is asked again in %d s",
                action,
                type(exc).__name__,
                exc,
                self.BACKOFF_SECONDS,
            )


def cache_of(app: Flask) -> AnswerCache:
    """The app's cache: in Redis when RESPONSE_CACHE_URL is set, else in this process."""
    config = app.config
    url = str(config.get("RESPONSE_CACHE_URL") or "") or None
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None or getattr(cache, "url", None) != url:
        max_bytes = int(config.get("RESPONSE_CACHE_MAX_BYTES", 32 * 1024 * 1024))
        if url:
            seconds = max(1, int(config.get("RESPONSE_CACHE_SECONDS", 60)))
            cache = RedisCache(url, 2 * seconds, max_bytes // 4)
        else:
            cache = ResponseCache(max_bytes)
        app.extensions[EXTENSION_KEY] = cache
    return cache


def _key() -> str | None:
    """The cache key of this request, or None when it must not be cached."""
    config = current_app.config
    if not config.get("RESPONSE_CACHE") or request.method != "GET":
        return None
    varies = CACHEABLE.get(request.endpoint or "")
    if varies is None:
        return None
    if config["SESSION_COOKIE_NAME"] in request.cookies or "Authorization" in request.headers:
        return None
    version, _changed = data_version.current()
    bucket = int(time.time() // max(1, int(config.get("RESPONSE_CACHE_SECONDS", 60))))
    headers = tuple(request.headers.get(name, "") for name in varies)
    material = repr(
        (request.host, request.script_root, request.full_path, version, bucket, headers)
    )
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
        or not _varies_only_on_the_key(response)
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


def _varies_only_on_the_key(response: Response) -> bool:
    """Whether every request header the answer says it varies on is in its key (an answer that
    varies on another would be replayed to clients it was not made for)."""
    keyed = {name.lower() for name in CACHEABLE.get(request.endpoint or "", ())}
    return all(name.lower() in keyed | ALWAYS_SAME for name in response.vary)


def init_app(app: Flask) -> None:
    """Answer from the cache before the view runs, and keep what the view answered."""
    try:
        cache_of(app)  # a RESPONSE_CACHE_URL Redis cannot read stops the start, not each request
    except ValueError as exc:
        raise RuntimeError(
            f"RESPONSE_CACHE_URL (DIRECTORY_RESPONSE_CACHE_URL): {exc}; give a Redis URL such as "
            "redis://127.0.0.1:6379/0, or leave it empty for the cache in each process"
        ) from exc
    # Before the rate limits are counted (a blueprint's limit, such as the API's, is checked
    # in a before_request hook of Flask-Limiter's): an answer from the cache costs less than
    # counting it, and the search pages, limited in their view, were never counted for one.
    hooks = app.before_request_funcs.setdefault(None, [])
    limits = [
        i for i, hook in enumerate(hooks) if getattr(hook, "__name__", "") == "_check_request_limit"
    ]
    hooks.insert(limits[0] if limits else len(hooks), _answer_from_cache)
    app.after_request(_keep)
