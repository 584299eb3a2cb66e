"""Configuration defaults. instance/config.py, then environment variables, override them."""

from datetime import timedelta


class Defaults:
    """Defaults for a local, single-machine installation."""

    # Filled in by create_app() from the instance folder when not configured.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SECRET_KEY: str | None = None

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # whole request; per-file limits are stricter
    IMAGE_MAX_BYTES = 5 * 1024 * 1024
    FLYER_MAX_BYTES = 8 * 1024 * 1024
    UPLOAD_FOLDER: str | None = None  # instance/uploads unless set

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "directory_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_LIFETIME_HOURS = 12

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "5 per minute;20 per hour"
    # Wrong codes at the login's second step, per address and per account.
    TWO_STEP_RATE_LIMIT = "5 per minute;20 per hour"
    # How long the second step waits after the right password before the login starts over.
    TWO_STEP_PENDING_SECONDS = 300
    # Password-reset requests: per client address, and per e-mail address asked for.
    RESET_REQUEST_RATE_LIMIT = "10 per hour"
    RESET_REQUEST_EMAIL_RATE_LIMIT = "3 per hour"

    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    LANGUAGES = ("nb", "nn", "en")

    # Argon2id at the OWASP Password Storage Cheat Sheet's first option
    # (m=19 MiB, t=2, p=1); raise on stronger hardware, never lower.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19456
    ARGON2_PARALLELISM = 1

    # "whoosh" (default) or "database" (SQL only, as in degraded mode).
    SEARCH_BACKEND = "whoosh"
    # Follow every commit into the index; switch off for bulk loads and rebuild afterwards.
    SEARCH_SYNC = True
    # Seconds a search-index writer waits for the lock before giving up.
    SEARCH_WRITER_TIMEOUT = 5.0
    SEARCH_INDEX_DIR: str | None = None

    PREFERRED_URL_SCHEME = "http"
    PUBLIC_BASE_URL: str | None = None  # used in exports and feeds when set

    # Outgoing e-mail (invitations, password resets, notifications). Without MAIL_SERVER the
    # messages are written to the log. MAIL_USE_TLS asks the server for STARTTLS.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "Aktivitetskatalogen <noreply@localhost>"
    MAIL_TIMEOUT = 10.0

    # E-mail about distribution requests to organisers and school staff: off by default. The
    # sender is a dotted path to a class with send(message); the default writes to the log.
    NOTIFICATIONS_ENABLED = False
    NOTIFICATION_SENDER = "directory.notifications:MailSender"


class Production(Defaults):
    """A site served over HTTPS behind the nginx of deploy/ (DIRECTORY_PROFILE=production).

    What differs from a local installation belongs here, so that the deploy files only name
    the profile and the site's own values (PUBLIC_BASE_URL, the database, the secret key).
    """

    PREFERRED_URL_SCHEME = "https"
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix: the browser keeps the cookie only if Secure, for "/", without Domain.
    SESSION_COOKIE_NAME = "__Host-directory_session"


PROFILES = {"default": Defaults, "production": Production}
