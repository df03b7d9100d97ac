"""What happens to runs from outside: business events posted to a dossier, and timers coming due."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.errors import Malformed

from . import journal
from .actors import Actor, system
from .dossiers import get_dossier
from .journal import Kind
from .models import Run, RunStatus, Timer
from .runs import get_run
from .step import event_received, step_run, timer_fired


def post_event(
    session: Session, dossier_id: int, actor: Actor, name: str, data: dict | None, now: datetime
) -> list[int]:
    """Delivers a business event to every run of the dossier waiting for it; always recorded."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Malformed("Le nom de l'événement est obligatoire (200 caractères au plus).")
    if data is not None and not isinstance(data, dict):
        raise Malformed("« data » doit être un objet JSON.")
    dossier = get_dossier(session, dossier_id)
    delivered = []
    running = (
        select(Run.id).where(Run.dossier_id == dossier.id, Run.status == RunStatus.RUNNING).order_by(Run.id)
    )
    for run_id in list(session.scalars(running)):
        run = get_run(session, run_id, lock=True)
        if run.status != RunStatus.RUNNING:
            continue
        if name in (run.waiting_messages or []):
            settled = step_run(session, run, event_received(name, data or {}), system("event"), now)
            if settled is not None:
                delivered.append(run.id)
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.EVENT_RECEIVED,
        now,
        name=name,
        data=data or {},
        delivered_to=delivered,
    )
    return delivered


def fire_timer(session: Session, timer_id: int, now: datetime, only_if_due: bool = False) -> bool:
    """Fires one due timer: loads its run only. Returns False when the timer is no longer pending, or with
    `only_if_due` (the worker) no longer due: a migration may have postponed it since it was claimed."""
    timer = session.get(Timer, timer_id)
    if timer is None or timer.fired_at is not None or timer.cancelled_at is not None:
        return False
    run = get_run(session, timer.run_id, lock=True)
    session.refresh(timer)
    if timer.fired_at is not None or timer.cancelled_at is not None or run.status != RunStatus.RUNNING:
        return False
    if only_if_due and timer.due_at > now:
        return False
    timer.fired_at = now
    journal.record(
        session,
        run.dossier_id,
        "system:timer",
        Kind.TIMER_FIRED,
        now,
        run_id=run.id,
        element_id=timer.element_id,
        due_at=timer.due_at.isoformat(),
        fired_at=now.isoformat(),
        late_seconds=max(0.0, (now - timer.due_at).total_seconds()),
    )
    step_run(session, run, timer_fired(timer.task_id, timer.element_id), system("timer"), now)
    return True
