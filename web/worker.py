"""The timer worker: `sequences worker`, or a thread inside `sequences serve`.

The claiming and firing live in runtime.timers; this module only loops, waits, stops on a signal and
hands the runtime what the app holds (its session, its clock, its configuration)."""

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from kernel.db import unit_of_work
from runtime import notifications, timers
from runtime.delivery import deliver_pending

from .extensions import db

log = logging.getLogger("sequences.worker")

DEFAULT_BATCH = 100


def worker_id(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"


def run_pass(app, ident: str, batch: int, lease: timedelta, should_stop: Callable[[], bool]) -> timers.Pass:
    """One pass: fire what is due, then send what is to be sent. Needs the app context."""
    from .clock import clock

    db.session.expire_all()  # what the last pass read is read again: other processes wrote since
    done = timers.run_once(db.session, ident, clock(), batch, lease, should_stop=should_stop)
    if done.claimed:
        log.info("%s: %d timer(s) claimed, %d fired, %d skipped, %d failed, %d released", ident, done.claimed,
                 done.fired, done.skipped, done.failed, done.released)
    # --- Notifications, then communications: the single place where the worker sends them -----------------
    if not should_stop():
        _queue_notifications(app, ident, clock().now())
    if not should_stop():
        _deliver_communications(app, ident, clock().now())
    return done


_last_delivery_error: dict[str, str] = {}
_last_notification_pass: dict[str, float] = {}


def _queue_notifications(app, ident: str, now) -> None:
    """Emails to the holders of new actions, digests, failures told to managers (runtime.notifications),
    at most every NOTIFY_INTERVAL_SECONDS per worker; they go out with the other communications."""
    every = float(app.config.get("NOTIFY_INTERVAL_SECONDS", 30))
    at = time.monotonic()
    if at - _last_notification_pass.get(ident, -every) < every:
        return
    _last_notification_pass[ident] = at
    links = notifications.Links(app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    try:
        with unit_of_work(db.session):
            queued = notifications.queue_due(db.session, now, links)
    except Exception:  # noqa: BLE001 — notifications must not stop the timers; the next pass tries again
        log.exception("%s: notifications: queueing failed", ident)
        return
    if queued.emails:
        log.info("%s: notifications: %d email(s) queued", ident, queued.emails)


def _deliver_communications(app, ident: str, now) -> None:
    # The core receives plain values, never the app's config object.
    settings = {key: value for key, value in app.config.items() if key.startswith("SMTP_")}
    try:
        with unit_of_work(db.session):
            sent = deliver_pending(db.session, now, settings, worker_id=ident)
    except Exception as error:  # noqa: BLE001 — a mail server or an outbox problem must not stop the timers
        text = f"{type(error).__name__}: {error}"
        if _last_delivery_error.get(ident) != text:  # once per distinct error, not at every pass
            _last_delivery_error[ident] = text
            log.exception("%s: communications: delivery failed", ident)
        return
    _last_delivery_error.pop(ident, None)
    if getattr(sent, "claimed", 0):
        log.info("%s: communications: %s", ident, sent)


def loop(app, ident: str, stop: threading.Event, *, batch: int, interval: float, lease: timedelta,
         once: bool = False) -> None:
    """Passes until `stop` is set. A full batch means more may be due: the next pass starts at once.
    With `once`, drains what is due now and returns. Between passes the worker sleeps until the next timer
    falls due, `interval` at most, and a timer committed meanwhile that falls due earlier wakes it (on
    PostgreSQL, unless behind a pooler in transaction mode: runtime.timers.Bell)."""
    from .clock import clock

    bell = timers.Bell(db.engine, listen=not once and app.config.get("DATABASE_POOLER") != "transaction")
    bell.open()  # before the first pass: a timer committed after it is heard
    try:
        while not stop.is_set():
            try:
                done = run_pass(app, ident, batch, lease, stop.is_set)
            except Exception:  # noqa: BLE001 — the database may be away for a while: wait and try again
                db.session.rollback()
                log.exception("%s: pass failed", ident)
                if once:
                    raise
                stop.wait(interval)
                continue
            if done.claimed >= batch and not stop.is_set():
                continue
            if once:
                return
            if bell.sleep(_pause(ident, interval), stop, clock().now()):
                log.debug("%s: woken by a timer due earlier", ident)
    finally:
        bell.close()


def _pause(ident: str, interval: float) -> float:
    """Sleeps until the next timer falls due rather than a whole interval: a timer fires within a few
    milliseconds of its due time, not up to `interval` late. `interval` stays the longest sleep."""
    from .clock import clock

    try:
        return timers.seconds_to_next(db.session, clock().now(), interval)
    except Exception:  # noqa: BLE001 — the database may be away: the next pass will say so
        db.session.rollback()
        log.debug("%s: next due time unknown", ident, exc_info=True)
        return interval


def _lease(app, seconds: float | None) -> timedelta:
    value = seconds if seconds is not None else app.config.get("WORKER_LEASE_SECONDS")
    return timedelta(seconds=float(value)) if value else timers.LEASE


@click.command("worker")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@click.option("--batch", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 10_000),
              help="Timers claimed per pass.")
@click.option("--interval", type=click.FloatRange(min=0.01),
              help="Seconds between passes (default: WORKER_INTERVAL_SECONDS).")
@click.option("--lease", type=click.FloatRange(min=0.1),
              help="Seconds a claim holds before another worker may take it over (default 60).")
@with_appcontext
def worker_command(once, batch, interval, lease):
    """Fire due timers and send communications (several may run at once on PostgreSQL)."""
    app = current_app._get_current_object()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ident = worker_id()
    stop = threading.Event()

    def _stop(signum, _frame):
        # The timer being fired finishes; the rest of the batch is released for other workers.
        log.info("%s: %s received, stopping", ident, signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    every = interval if interval is not None else float(app.config.get("WORKER_INTERVAL_SECONDS", 1.0))
    listens = app.config.get("DATABASE_POOLER") != "transaction" and db.engine.dialect.name == "postgresql"
    log.info("%s: started (batch %d, every %.2f s at most%s)", ident, batch, every,
             ", woken by new timers" if listens else "")
    try:
        loop(app, ident, stop, batch=batch, interval=every, lease=_lease(app, lease), once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db.session.remove()
    log.info("%s: stopped", ident)


_embedded: dict[int, tuple[threading.Thread, threading.Event]] = {}


def start_embedded(app) -> threading.Thread:
    """Runs the worker in a daemon thread of `sequences serve` (once per app)."""
    if id(app) in _embedded and _embedded[id(app)][0].is_alive():
        return _embedded[id(app)][0]
    stop = threading.Event()
    ident = worker_id(":serve")
    every = float(app.config.get("WORKER_INTERVAL_SECONDS", 1.0))

    def target() -> None:
        with app.app_context():
            try:
                loop(app, ident, stop, batch=DEFAULT_BATCH, interval=every, lease=_lease(app, None))
            finally:
                db.session.remove()

    thread = threading.Thread(target=target, name="sequences-worker", daemon=True)
    _embedded[id(app)] = (thread, stop)
    thread.start()
    return thread


def stop_embedded(app, timeout: float = 10.0) -> None:
    found = _embedded.pop(id(app), None)
    if found is not None:
        found[1].set()
        found[0].join(timeout)
