"""Defaults for one machine with nothing to install; every key can be set by a SEQUENCES_* variable."""


class Config:
    SECRET_KEY = "dev-only-change-me"
    # None means: a SQLite file in the instance folder.
    DATABASE_URL: str | None = None
    # "transaction" when DATABASE_URL points at a pooler in transaction mode (PgBouncer; see the README).
    DATABASE_POOLER: str | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    SMTP_FROM = "sequences@localhost"
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # The timer worker embedded in `sequences serve`; off in tests, which drive timers by hand.
    EMBEDDED_WORKER = True
    WORKER_INTERVAL_SECONDS = 1.0
    # Engines of the runs a process stepped last, kept in memory for their next step; 0 turns it off.
    ENGINE_CACHE = 256
    # The designer saves the draft by itself this long after the last change (designer/drafts.py).
    DESIGNER_AUTOSAVE_SECONDS = 30
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    SESSION_COOKIE_HTTPONLY = True
    # SEQUENCES_SESSION_COOKIE_SECURE=true behind HTTPS (see the README); plain HTTP on loopback otherwise.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    LOGIN_ATTEMPTS = 5
    LOGIN_WINDOW_SECONDS = 300
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # The app's address as users reach it: the links of notification emails start with it.
    BASE_URL = "http://127.0.0.1:5000"
    # How often the worker looks for actions to announce and digests to send.
    NOTIFY_INTERVAL_SECONDS = 30.0
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
