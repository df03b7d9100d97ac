"""Helpers for the timer tests: sequences published and runs launched through the service layer."""

import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import DATA

SEQUENCES = Path(sys.executable).with_name("sequences")


def publish(session: Session, *names: str, now: datetime) -> None:
    from designer.services import publish_version, save_draft

    for name in names:
        data = (DATA / "bpmn" / "timers" / f"{name}.bpmn").read_bytes()
        sequence, _, report = save_draft(session, data, None, now)
        assert not report.issues, report.issues
        publish_version(session, sequence.key, None, now)
    session.commit()


def launch_many(session: Session, sequence: str, count: int, now: datetime, prefix: str = "R") -> list[int]:
    """`count` dossiers, each with one run of `sequence`, committed; returns the run ids."""
    from runtime.actors import system
    from runtime.dossiers import create_dossier
    from runtime.runs import launch_run

    actor = system("test")
    run_ids = []
    for n in range(count):
        dossier = create_dossier(session, actor, f"{prefix}-{n}", f"Dossier {n}", {}, now)
        run = launch_run(session, dossier.id, actor, now, sequence=sequence, allow_unassigned=True)
        run_ids.append(run.id)
    session.commit()
    return run_ids


def clone_runs(session: Session, run_id: int, due: list[datetime], prefix: str = "C",
               chunk: int = 2000) -> list[int]:
    """Copies of one run waiting on one timer, in bulk (around the service layer, for speed): a new dossier,
    run and timer per entry of `due`, each timer due at that instant. Committed; returns the run ids."""
    from sqlalchemy import insert

    from runtime.models import Dossier, Run, Timer

    model = session.get(Run, run_id)
    [timer] = session.scalars(select(Timer).where(Timer.run_id == run_id, Timer.fired_at.is_(None),
                                                  Timer.cancelled_at.is_(None))).all()
    copied = {"version_id": model.version_id, "status": "running", "called_versions": model.called_versions,
              "state": model.state, "active_elements": model.active_elements,
              "waiting_messages": model.waiting_messages, "revision": 1, "started_at": model.started_at,
              "started_by": model.started_by, "step": model.step}
    when = model.started_at
    run_ids: list[int] = []
    for start in range(0, len(due), chunk):
        part = due[start:start + chunk]
        refs = [f"{prefix}-{start + n}" for n in range(len(part))]
        session.execute(insert(Dossier), [{"reference": r, "title": r, "data": {}, "created_at": when,
                                           "updated_at": when} for r in refs])
        dossier_ids = dict(session.execute(select(Dossier.reference, Dossier.id)
                                           .where(Dossier.reference.in_(refs))).all())
        session.execute(insert(Run), [{**copied, "dossier_id": dossier_ids[r]} for r in refs])
        by_dossier = dict(session.execute(select(Run.dossier_id, Run.id)
                                          .where(Run.dossier_id.in_(dossier_ids.values()))).all())
        ids = [by_dossier[dossier_ids[r]] for r in refs]
        session.execute(insert(Timer), [{"run_id": i, "element_id": timer.element_id,
                                         "task_id": timer.task_id, "due_at": at, "created_at": when,
                                         "attempts": 0} for i, at in zip(ids, part, strict=True)])
        run_ids.extend(ids)
    session.commit()
    return run_ids


def fired_per_run(session: Session) -> Counter:
    """TIMER_FIRED history entries per run id."""
    from runtime.journal import JournalEntry, Kind

    query = select(JournalEntry.run_id, func.count()).where(JournalEntry.kind == Kind.TIMER_FIRED.value) \
        .group_by(JournalEntry.run_id)
    return Counter(dict(session.execute(query).all()))


def run_threads(targets) -> list[BaseException]:
    """Runs each callable in its own thread; returns the exceptions raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrap(target):
        def body():
            try:
                start.wait()
                target()
            except BaseException as error:  # noqa: BLE001 — reported to the test
                errors.append(error)
        return body

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def worker_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCES_")}
    env.update({"SEQUENCES_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **extra})
    return env


def start_worker(database_url: str, *args: str) -> subprocess.Popen:
    """A real `sequences worker` process; its output is kept for failure messages, in a file: a pipe nobody
    reads while the worker runs would fill up and stop it mid-write."""
    output = tempfile.TemporaryFile()
    process = subprocess.Popen([SEQUENCES, "worker", *args], env=worker_env(database_url),
                               stdout=output, stderr=subprocess.STDOUT)
    process.output_file = output  # type: ignore[attr-defined]
    return process


def output_of(process: subprocess.Popen) -> str:
    """Kills the process if it still runs; returns the end of what it printed."""
    if process.poll() is None:
        process.kill()
    process.wait(10)
    output = process.output_file  # type: ignore[attr-defined]
    if output.closed:
        return ""
    output.seek(0)
    return output.read().decode(errors="replace")[-3000:]


def finish(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)
    process.output_file.close()  # type: ignore[attr-defined]
