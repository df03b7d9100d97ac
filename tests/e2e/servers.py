"""Real processes for the end-to-end tests on PostgreSQL: a fresh database, gunicorn app servers, `sequences
worker`s, and a small HTTP client over loopback (http.client, one connection per request).

Every process is started in its own process group and killed with it (master and workers at once) by the
fixture that started it, whatever happens in the test."""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import PG_HOST, PG_PORT, postgres_answers
from tests.factories import DATA
from tests.scratch import scratch_database

BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
SEQUENCES = BIN / "sequences"
HOST = "127.0.0.1"
SECRET = "e2e-" + uuid.uuid4().hex


def require_postgres_and_gunicorn() -> None:
    if not postgres_answers():
        if os.environ.get("SEQUENCES_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (SEQUENCES_TEST_POSTGRES=required) but does not answer")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")
    if not GUNICORN.exists() and not shutil.which("gunicorn"):
        pytest.skip("gunicorn is not installed in the virtualenv")


@contextlib.contextmanager
def fresh_database():
    """A new, migrated PostgreSQL database, dropped afterwards (even when connections remain)."""
    require_postgres_and_gunicorn()
    with scratch_database("sequences_e2e") as url:
        subprocess.run(
            [SEQUENCES, "db", "upgrade"], env=environment(url), check=True, capture_output=True, timeout=120
        )
        yield url


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@contextlib.contextmanager
def pgbouncer(url: str):
    """PgBouncer in transaction pooling mode in front of the database of `url`, on a free port: yields the
    URL the app connects to. Run as the postgres system user when the tests run as root (PgBouncer refuses
    root). Skipped, with the reason, only when the package is not installed."""
    if not Path(PGBOUNCER).exists():
        pytest.skip("PgBouncer is not installed (Debian package pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o777)
    port = free_port()
    database = url.rsplit("/", 1)[1]
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"{database} = host={PG_HOST} port={PG_PORT} user=postgres dbname={database}\n"
        "[pgbouncer]\n"
        f"listen_addr = {HOST}\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\n"
        # Fewer server connections than clients: transactions of different processes share them.
        "max_client_conn = 200\ndefault_pool_size = 6\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    config.chmod(0o644)
    command = [PGBOUNCER, str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"PgBouncer did not start: {(folder / 'pgbouncer.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        yield url.replace(f"{PG_HOST}:{PG_PORT}", f"{HOST}:{port}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def through(path: str, url: str):
    """The URL the app uses for the database of `url`: itself ("direct"), or PgBouncer's ("pgbouncer")."""
    if path == "direct":
        yield url
    else:
        with pgbouncer(url) as pooled:
            yield pooled


def environment(url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCES_")}
    env.update(
        {
            "SEQUENCES_DATABASE_URL": url,
            "SEQUENCES_SECRET_KEY": SECRET,
            "SEQUENCES_EMBEDDED_WORKER": "false",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def seed_accounts(url: str) -> dict[str, str]:
    """admin, analyst, manager, partner accounts; returns their API tokens."""
    from kernel.accounts import create_token, create_user
    from runtime.clock import Clock
    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock(), "SECRET_KEY": SECRET})
    tokens = {}
    with app.app_context():
        for name, kind, role in [
            ("admin", "internal", "admin"),
            ("analyst", "internal", "analyst"),
            ("manager", "internal", "manager"),
            ("partner", "partner", None),
        ]:
            user = create_user(
                db.session,
                email=f"{name}@example.test",
                name=name.title(),
                kind=kind,
                role=role,
                password="correct horse",
                now=Clock().now(),
            )
            tokens[name] = create_token(db.session, user, Clock().now())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


class Server:
    """`gunicorn -w N 'web:create_app()'` on a free loopback port, in its own process group. `options`:
    gunicorn's options instead of `-w N` (e.g. `-c gunicorn.conf.py`)."""

    def __init__(
        self,
        url: str,
        workers: int = 3,
        port: int | None = None,
        log: Path | None = None,
        options: list[str] | None = None,
        **env: str,
    ):
        self.url, self.workers, self.port = url, workers, port or free_port()
        self.options = options if options is not None else ["-w", str(workers)]
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Server":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 — closed by the child
        self.process = subprocess.Popen(
            [
                GUNICORN,
                *self.options,
                "-b",
                f"{HOST}:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "web:create_app()",
            ],
            env=environment(self.url, **self.env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.log:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.tail()}")
            with contextlib.suppress(OSError):
                if call(self.port, "GET", "/login", timeout=5)[0] in (200, 302):
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on port {self.port}: {self.tail()}")

    def kill(self) -> None:
        """kill -9 of the master and every worker at once (its whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(15)
        self.process = None

    def tail(self) -> str:
        if self.log and self.log.exists():
            return self.log.read_text(errors="replace")[-3000:]
        return "(no log)"


class Worker:
    """A `sequences worker` process in its own process group."""

    def __init__(self, url: str, log: Path, *args: str, **env: str):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [SEQUENCES, "worker", *args],
                env=environment(url, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> int | None:
        """SIGTERM (the worker finishes the timer at hand), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)
        return self.process.returncode


def call(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    body=None,
    timeout: float = 30,
    content_type: str = "application/json",
) -> tuple[int, object]:
    """One request on a new connection; returns (status, JSON body or text). Raises OSError when the
    server is away (refused, reset, timed out)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        if kind.startswith("application/json"):
            return response.status, json.loads(data)
        return response.status, data.decode(errors="replace")
    except http.client.HTTPException as error:  # a connection cut mid-answer: same as a server away
        raise ConnectionError(str(error)) from error
    finally:
        connection.close()


class Api:
    """The REST API of one or several servers (round-robin), as one user."""

    def __init__(self, ports: list[int], token: str):
        self.ports, self.token, self.turn = ports, token, 0

    def __call__(self, method: str, path: str, body=None, expect: int | None = None, **kwargs):
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        status, answer = call(port, method, "/api/v1" + path, self.token, body, **kwargs)
        if expect is not None and status != expect:
            raise AssertionError(f"{method} {path} on :{port}: {status} {answer!r:.500}")
        return status, answer

    def publish(self, name: str, folder: str = "runtime") -> None:
        data = (DATA / "bpmn" / folder / f"{name}.bpmn").read_bytes()
        status, saved = self("POST", "/sequences", data, content_type="application/xml")
        assert status in (200, 201) and saved["issues"] == [], saved
        self("POST", f"/sequences/{saved['key']}/publish", expect=201)

    def dossier_with_run(self, reference: str, sequence: str, manager_email: str = "manager@example.test"):
        """A dossier, its internal participant holding `gestionnaire`, and a run of `sequence`."""
        _, dossier = self("POST", "/dossiers", {"reference": reference, "title": reference}, expect=201)
        self(
            "POST",
            f"/dossiers/{dossier['id']}/participants",
            {"kind": "internal", "name": "G", "roles": ["gestionnaire"], "user_email": manager_email},
            expect=201,
        )
        _, run = self("POST", f"/dossiers/{dossier['id']}/runs", {"sequence": sequence}, expect=201)
        return run


@contextlib.contextmanager
def database_session(url: str):
    """A plain SQLAlchemy session on the database (no Flask), for checks after the fact."""
    from sqlalchemy.orm import Session

    import designer.models  # noqa: F401
    import kernel.accounts  # noqa: F401 — every table known to the metadata
    import runtime.journal  # noqa: F401
    import runtime.models  # noqa: F401

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
