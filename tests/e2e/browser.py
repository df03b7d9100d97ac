"""What the browser tests share: the app on a migrated SQLite file, served from a thread on loopback, and
Debian's Chromium."""

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach the internet.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serving(app):
    """Serves `app` on a free port of 127.0.0.1 until the block ends; yields its base URL."""
    from werkzeug.serving import make_server

    from web.extensions import db

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        with app.app_context():
            db.engine.dispose()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def migrated_app(tmp_path_factory, name: str):
    """The app on a new SQLite file, migrated, for a browser test's server (skipped without Chromium)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    from flask_migrate import upgrade

    from tests.workspace_data import ensure_documents_table
    from web import create_app
    from web.extensions import db

    path = tmp_path_factory.mktemp("e2e") / f"{name}.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
        ensure_documents_table(db)
    return app
