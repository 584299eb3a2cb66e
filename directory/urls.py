"""The site's own address: absolute links, and the Host names the site answers to.

Every absolute URL the site writes (feeds, iCalendar UIDs, the widget, the API, structured
data, export files and their QR codes, e-mails) is built here, on PUBLIC_BASE_URL when it is
set. The Host header is the client's word: a link built on it can be pointed anywhere, and a
publicly cached feed would hand that link to everyone.

Flask's TRUSTED_HOSTS refuses a request for any other Host with a 400. None (the default
profile, `make run` on 127.0.0.1) trusts any; a list, as in the production profile, always
holds PUBLIC_BASE_URL's host as well, and this machine's own names when nothing else is named.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request, url_for
from flask.globals import _cv_app, _cv_request
from werkzeug.exceptions import SecurityError

from directory.i18n import gettext as _

log = logging.getLogger("directory.urls")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# This machine's names for TRUSTED_HOSTS: Werkzeug (3.1) cannot match an IPv6 literal there.
LOCAL_TRUSTED_HOSTS = ("localhost", "127.0.0.1")


def site_origin() -> str:
    """Scheme and host of absolute links, no "/" last: PUBLIC_BASE_URL, else this request's."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return (base or request.host_url).rstrip("/")


def site_base_url() -> str:
    """site_origin() with the app's path prefix, for builders that add the paths themselves."""
    return site_origin() + request.script_root


def absolute_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of an endpoint on the site's public address."""
    return site_origin() + kept_url_for(endpoint, **values)


URLS_KEPT = "kept_urls"
URLS_KEPT_MAX = 4096


def kept_url_for(endpoint: str, **values: Any) -> str:
    """url_for, each URL built once per process: a page builds some twenty (the header, the
    footer, the filters, the feeds), most of them the same on every page. Kept for its
    endpoint, values (in their order), script root and carried language, the only things a URL
    without a host depends on (a list of values counts as its tuple); a URL with a host, an
    anchor or a method, a relative endpoint or an unhashable value is built every time. At
    most URLS_KEPT_MAX are kept (then they start over). The templates' url_for is this one."""
    context = _cv_request.get(None)
    if context is None or endpoint[:1] == "." or any(name[:1] == "_" for name in values):
        return url_for(endpoint, **values)
    key = (
        endpoint,
        context.request.script_root,
        _cv_app.get().g.get("lang"),
        tuple((k, tuple(v) if type(v) is list else v) for k, v in values.items()),
    )
    urls = context.app.extensions.get(URLS_KEPT)
    if urls is None:
        urls = context.app.extensions[URLS_KEPT] = {}
    try:
        found = urls.get(key)
    except TypeError:  # a value that cannot be a key
        return url_for(endpoint, **values)
    if found is None:
        found = url_for(endpoint, **values)
        if len(urls) >= URLS_KEPT_MAX:
            urls.clear()
        urls[key] = found
    return found


def request_is_local() -> bool:
    """Whether this request came to this machine by a loopback name (`make run`, tests)."""
    return urlsplit(request.host_url).hostname in LOOPBACK_HOSTS


def public_host(base_url: str | None) -> str | None:
    """The host name of PUBLIC_BASE_URL; a RuntimeError when it is not an http(s) address."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError(
            f"PUBLIC_BASE_URL={base_url!r}: write the site's address with http:// or https://, "
            "for example https://aktiviteter.kommune.no"
        )
    return parts.hostname


def trusted_hosts(configured: object, base_url: str | None) -> list[str] | None:
    """TRUSTED_HOSTS as Flask needs it, from the setting and PUBLIC_BASE_URL.

    None stays None (any host). A list, or a string of names separated by commas or spaces
    (as an environment variable may give), gains PUBLIC_BASE_URL's host; when that leaves it
    empty, which Werkzeug would read as "any host", it holds this machine's own names.
    """
    host = public_host(base_url)
    if configured is None:
        return None
    if isinstance(configured, str):
        configured = configured.replace(",", " ").split()
    hosts = [str(name) for name in configured]  # type: ignore[union-attr]
    if host and host not in hosts:
        hosts.insert(0, host)
    return hosts or list(LOCAL_TRUSTED_HOSTS)


def init_app(app: Flask) -> None:
    """Settle TRUSTED_HOSTS and answer a request for another host with a 400 and a message."""
    config = app.config
    hosts = trusted_hosts(config.get("TRUSTED_HOSTS"), config.get("PUBLIC_BASE_URL"))
    config["TRUSTED_HOSTS"] = hosts
    if hosts is not None and not config.get("PUBLIC_BASE_URL"):
        log.warning(
            "PUBLIC_BASE_URL is not set: the site answers only requests for %s", ", ".join(hosts)
        )
    # First of all: the later hooks and the error pages build URLs, and with the host refused
    # Flask has no URL adapter for them.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
    app.register_error_handler(SecurityError, _untrusted_host_response)


def _refuse_untrusted_host():
    if isinstance(request.routing_exception, SecurityError):
        return _untrusted_host_response(request.routing_exception)
    return None


def _untrusted_host_response(exc: SecurityError):
    from directory.web import wants_json

    message = _(
        "Nettstedet svarer ikke på adressen forespørselen ble sendt til. "
        "Bruk nettstedets egen adresse."
    )
    if wants_json():
        return {"error": message}, 400
    # A page of its own: base.html needs url_for, which has nothing to build on here.
    return render_template("errors/untrusted_host.html", message=message), 400
