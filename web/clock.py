"""The app's clock: real time, or one a test sets through the config key CLOCK."""

from flask import current_app

from runtime.clock import Clock


def init_clock(app) -> None:
    app.extensions["sequences_clock"] = app.config.get("CLOCK") or Clock()


def clock() -> Clock:
    return current_app.extensions["sequences_clock"]


def now():
    return clock().now()
