"""Security headers, safe redirects and the login-session loader."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask_login import current_user

CSP_DEFAULT = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors {frame_ancestors}"
)


def init_app(app: Flask) -> None:
    """Attach the login loader and the security headers to every response."""
    from directory.accounts.operations import load_session_user
    from directory.extensions import login_manager

    login_manager.user_loader(load_session_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = None  # the server-side session token is the protection

    app.after_request(add_security_headers)


def allow_framing() -> None:
    """Let the current response be embedded in an iframe on any site (the public widget)."""
    g.frame_ancestors = "*"


def add_security_headers(response: Response) -> Response:
    """Set CSP, nosniff, framing, referrer and (over HTTPS) HSTS headers."""
    frame_ancestors = g.get("frame_ancestors", "'none'")
    response.headers.setdefault(
        "Content-Security-Policy", CSP_DEFAULT.format(frame_ancestors=frame_ancestors)
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if frame_ancestors == "'none'":
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if current_user and current_user.is_authenticated:
        # Pages behind a login must not be kept by shared or back-button caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def is_safe_next(target: str | None) -> bool:
    """Whether `target` is a local path (no scheme, no host, no protocol-relative or backslash)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
