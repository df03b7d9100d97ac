"""What pages show about a run's delays: the timers it waits for, when they fire and how that was counted."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Run, Timer
from .specs import model_of


@dataclass
class WaitingDelay:
    run_id: int
    element_id: str
    name: str
    due_at: datetime
    note: dict | None


def waiting_delays(session: Session, runs: list[Run]) -> dict[int, list[WaitingDelay]]:
    """Run id → its pending timers, soonest first, named as in the diagram."""
    by_id = {run.id: run for run in runs}
    if not by_id:
        return {}
    rows = session.scalars(
        select(Timer)
        .where(Timer.run_id.in_(by_id), Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        .order_by(Timer.due_at, Timer.id)
    )
    found: dict[int, list[WaitingDelay]] = {}
    for timer in rows:
        element = model_of(by_id[timer.run_id].version).elements.get(timer.element_id)
        name = (element.name if element else None) or timer.element_id
        found.setdefault(timer.run_id, []).append(
            WaitingDelay(timer.run_id, timer.element_id, name, timer.due_at, timer.due_note)
        )
    return found
