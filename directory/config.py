"""Configuration defaults. instance/config.py, then environment variables, override them."""

from datetime import timedelta


class Defaults:
    """Defaults for a local, single-machine installation."""

    PROFILE = "default"  # DIRECTORY_PROFILE, which chose this class
    # Filled in by create_app() from the instance folder when not configured.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SECRET_KEY: str | None = None

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # whole request; per-file limits are stricter
    IMAGE_MAX_BYTES = 5 * 1024 * 1024
    # What re-encoding an uploaded image may cost a worker, estimated from the image's header
    # before any pixel is decoded (README, "Uploads"; bench/image_cap.py measures it): the
    # memory, which makes the pixel cap of each kind of image (17.5 megapixels for a PNG,
    # 5.8 for a WebP, ...), and a pixel cap for every image, which bounds the time (well under
    # 1 s). Pillow's own guard refuses twice the default pixel cap whatever is set here.
    IMAGE_MAX_DECODE_BYTES = 100 * 1024 * 1024
    IMAGE_MAX_PIXELS = 50_000_000
    FLYER_MAX_BYTES = 8 * 1024 * 1024
    UPLOAD_FOLDER: str | None = None  # instance/uploads unless set
    # "database" or "folder" (UPLOAD_FOLDER); unset: the database on PostgreSQL, where several
    # hosts may serve one installation, the folder otherwise (README, "Uploads").
    UPLOAD_STORAGE: str | None = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "directory_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_LIFETIME_HOURS = 12
    # A school staff or municipal admin session also ends after this long unused (None: only
    # the lifetime above). Organisers have the lifetime alone.
    SESSION_IDLE_MINUTES: int | None = 120

    # memory:// counts in each process on its own: right for `make run`, wrong for several
    # workers or hosts, which need a store they share (redis://127.0.0.1:6379/0; see README).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # With the store unreachable, the limited pages are answered unlimited (and the error
    # logged) rather than with a 500; failed logins are then counted in each worker instead.
    RATELIMIT_SWALLOW_ERRORS = True
    # Failed logins per account: the e-mail tried (with or without an account), from any address.
    LOGIN_RATE_LIMIT = "5 per minute;20 per hour"
    # Failed logins per client address over all accounts: generous, so that a school or office
    # behind one address is not shut out by one person's guesses (the per-account limit is the
    # strict one).
    LOGIN_ADDRESS_RATE_LIMIT = "30 per minute;200 per hour"
    # Wrong codes at the login's second step, per account (per address: LOGIN_ADDRESS_RATE_LIMIT).
    TWO_STEP_RATE_LIMIT = "5 per minute;20 per hour"
    # Registrations per client address, and per e-mail address (each one sends an e-mail).
    REGISTER_RATE_LIMIT = "10 per hour"
    REGISTER_EMAIL_RATE_LIMIT = "3 per hour"
    # Per client address, far above what a person clicks: only a loop meets them (429 with
    # Retry-After). The API as a whole; the search pages; the calendars, Atom feed and widget.
    API_RATE_LIMIT = "300 per minute"
    SEARCH_RATE_LIMIT = "240 per minute"
    FEED_RATE_LIMIT = "120 per minute"
    # The exports' short links (/a/<id>) answer a loop with 429 only past this, per address.
    SHORT_LINK_RATE_LIMIT = "120 per minute"
    # Visits counted per client address through the short links' school, channel and week; past
    # this the link still leads to the activity, and the visit is not counted (no inflating).
    REACH_COUNT_RATE_LIMIT = "20 per hour;60 per day"
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

    # "whoosh" (a file index in SEARCH_INDEX_DIR: one host), "postgres" (tables in the shared
    # PostgreSQL database: any number of hosts) or "database" (SQL only, as in degraded mode).
    # Unset: "postgres" when the database is PostgreSQL, else "whoosh" (DIRECTORY_SEARCH_BACKEND).
    SEARCH_BACKEND: str | None = None
    # Anonymous answers of public pages and the API kept in each process (directory/
    # response_cache.py), under the URL, the public data's version and a bucket of this many
    # seconds, at most RESPONSE_CACHE_MAX_BYTES.
    RESPONSE_CACHE = True
    RESPONSE_CACHE_SECONDS = 60
    RESPONSE_CACHE_MAX_BYTES = 32 * 1024 * 1024
    # redis://host:port/db (DIRECTORY_RESPONSE_CACHE_URL): the answers kept in that Redis instead,
    # shared by every worker and host, each for twice RESPONSE_CACHE_SECONDS (Redis's maxmemory
    # with allkeys-lru bounds it). Unset or empty: in each process. Redis down: made as a miss.
    RESPONSE_CACHE_URL: str | None = None
    # What each process makes once from the public data and keeps until it changes
    # (directory.data_version.kept): the search result cards, the API's list items, the home
    # page's welcome and the activity page's schedule facts (at most CARD_CACHE_ENTRIES of each;
    # the facts until the next date has ended or the day turns), the calendar feed's events
    # (CALENDAR_EVENTS_KEPT activities); and, for NEXT_STARTS_KEPT_ENTRIES activities each, the
    # next start with until when it holds, and whether the activity is listed on the day.
    # CARD_CACHE = False makes the cards, items, welcome, facts and events anew for every request.
    CARD_CACHE = True
    CARD_CACHE_ENTRIES = 4096
    CALENDAR_EVENTS_KEPT = 2000
    NEXT_STARTS_KEPT_ENTRIES = 50_000
    # Write every commit's changes to the index right after it; switch off for bulk loads (the
    # changes still queue in search_backlog) and run `flask reindex` afterwards.
    SEARCH_SYNC = True
    # /healthz says "search": "behind" (503) once a queued change has waited this long.
    SEARCH_BACKLOG_MAX_AGE_SECONDS = 300
    # Seconds a search-index writer waits for the lock before giving up.
    SEARCH_WRITER_TIMEOUT = 5.0
    SEARCH_INDEX_DIR: str | None = None

    # /healthz says "disk": "low" (503) when the instance, upload, search-index or SQLite
    # database folder has less free space than this.
    DISK_MIN_FREE_BYTES = 512 * 1024 * 1024

    PREFERRED_URL_SCHEME = "http"
    # The site's address (scheme and host, e.g. https://aktiviteter.kommune.no): every absolute
    # link, iCalendar UID and QR code is built on it when set, never on the request's Host.
    PUBLIC_BASE_URL: str | None = None
    # The Host names the site answers to; any other gets a 400 (Flask's setting, completed by
    # directory.urls). None answers any: `make run` serves 127.0.0.1 and localhost alone.
    TRUSTED_HOSTS: list[str] | None = None
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed
    # (werkzeug's ProxyFix). 0: none, the headers are ignored, as anyone can send them.
    PROXY_FIX_HOPS = 0

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

    PROFILE = "production"
    # No default key: SECRET_KEY (or DIRECTORY_SECRET_KEY) from the environment, the same on
    # every host, or start-up fails (a key generated into instance/ would be one host's alone).
    # Rate limits stay on memory:// unless DIRECTORY_RATELIMIT_STORAGE_URI names the Redis all
    # workers and hosts share (redis://127.0.0.1:6379/0); the log warns at start-up otherwise.
    PREFERRED_URL_SCHEME = "https"
    # PUBLIC_BASE_URL's host, added at start-up, and any other names listed here (e.g.
    # DIRECTORY_TRUSTED_HOSTS='["www.aktiviteter.kommune.no"]'); with neither, localhost only.
    TRUSTED_HOSTS: list[str] | None = []
    # Exactly one: the nginx of deploy/nginx.conf, on the same machine. request.remote_addr
    # (rate limits, logs) is then the client nginx saw, never an address the client made up.
    PROXY_FIX_HOPS = 1
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix: the browser keeps the cookie only if Secure, for "/", without Domain.
    SESSION_COOKIE_NAME = "__Host-directory_session"


PROFILES = {"default": Defaults, "production": Production}
