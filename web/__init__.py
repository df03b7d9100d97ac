"""The web layer: the Flask app factory, the REST API, the pages and the command line."""

from datetime import datetime
from pathlib import Path

from apiflask import APIFlask
from flask import g, has_request_context, request
from flask_babel import get_locale, get_translations

from bpmn.durations import PARIS
from kernel.db import ping_when_idle

from .config import Config
from .extensions import babel, csrf, db, login_manager, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _import_models() -> None:
    # Every table must be known to the metadata before the engine or Alembic looks at it.
    import designer.dictionary  # noqa: F401
    import designer.models  # noqa: F401
    import kernel.accounts  # noqa: F401
    import runtime.assignments  # noqa: F401
    import runtime.communications  # noqa: F401
    import runtime.documents  # noqa: F401
    import runtime.journal  # noqa: F401
    import runtime.models  # noqa: F401
    import runtime.notices  # noqa: F401


def create_app(config: dict | None = None) -> APIFlask:
    app = APIFlask(
        __name__,
        title="Séquences API",
        version="v1",
        instance_relative_config=True,
        spec_path="/api/v1/openapi.json",
        docs_path="/api/v1/docs",
    )
    app.config.from_object(Config)
    app.config.from_prefixed_env("SEQUENCES")
    if config:
        app.config.update(config)
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400
    app.config["SECURITY_SCHEMES"] = {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'sequences.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    options = _engine_options(app.config["DATABASE_URL"], app.config.get("DATABASE_POOLER"))
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)

    _import_models()
    from runtime import engine_cache

    engine_cache.configure(int(app.config["ENGINE_CACHE"]))
    db.init_app(app)
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        with app.app_context():
            ping_when_idle(db.engine)  # instead of a round trip at every checkout (pool_pre_ping)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    babel.init_app(app, locale_selector=_select_locale)
    _translate_templates_once_per_request(app)
    login_manager.init_app(app)
    csrf.init_app(app)

    from . import cli, errors, labels, security
    from .api import api
    from .clock import init_clock
    from .pages import pages

    init_clock(app)
    errors.init_app(app)
    cli.init_app(app)
    security.init_app(app)
    app.extensions["login_limiter"] = security.LoginLimiter(
        app.config["LOGIN_ATTEMPTS"], app.config["LOGIN_WINDOW_SECONDS"]
    )
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.context_processor(lambda: {"lang": str(get_locale() or "fr")})
    app.jinja_env.filters["note"] = _note
    app.jinja_env.filters["paris"] = _paris
    labels.init_app(app)
    return app


def _translate_templates_once_per_request(app) -> None:
    """Templates translate through the request's catalog, found once per request. Flask-Babel finds it again
    for every message (its domain, the locale, its cache: about 15 µs), which a page of 50 rows with a
    few translated words each pays hundreds of times. The catalog is the same for the whole request (the
    locale is chosen from its query string and cookie); it is dropped with the request."""

    def catalog():
        if not has_request_context():
            return get_translations()
        found = g.get("catalog")
        if found is None:
            found = g.catalog = get_translations()
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
    )
    # Where requests share an app context (tests), a request's catalog is never another's.
    app.teardown_request(lambda _error: g.pop("catalog", None))


def _note(note: dict | None) -> str:
    """How a date was counted ({"fr": ..., "en": ...}), in the page's language."""
    if not note:
        return ""
    return note.get(str(get_locale() or "fr")) or note.get("fr") or ""


def _paris(moment: datetime, pattern: str = "%d/%m/%Y") -> str:
    """A stored (UTC) instant as the date and time it is in Paris, where delays are counted."""
    return moment.astimezone(PARIS).strftime(pattern)


def _engine_options(url: str, pooler: str | None = None) -> dict:
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    if pooler == "transaction":
        # Behind a pooler in transaction mode (PgBouncer) each transaction may get another server connection:
        # statements psycopg would prepare on one would be missing on the next, so none is prepared.
        return {"connect_args": {"prepare_threshold": None}}
    return {}


def _select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in ("fr", "en"):
        return chosen
    return "fr"
