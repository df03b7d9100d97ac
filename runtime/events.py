"""What happens to runs from outside: business events posted to a dossier, and timers coming due."""

import difflib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from designer import dictionary
from designer.models import SequenceVersion
from designer.values import InvalidValue, parse
from kernel.errors import Malformed, RuleBroken

from . import journal
from .actors import Actor, system
from .dossiers import get_dossier
from .journal import Kind
from .models import Run, RunStatus, Timer
from .runs import get_run
from .specs import model_of
from .step import event_received, step_run, timer_fired


def post_event(
    session: Session, dossier_id: int, actor: Actor, name: str, data: dict | None, now: datetime
) -> list[int]:
    """Delivers a business event to every run of the dossier waiting for it; always recorded. The event is one
    the installation knows (its dictionary, or a message of a published version), its fields parsed by their
    types: anything else is refused naming the field, before anything is written."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Malformed("Le nom de l'événement est obligatoire (200 caractères au plus).", field="name")
    if data is not None and not isinstance(data, dict):
        raise Malformed("« data » doit être un objet JSON.", field="data")
    dossier = get_dossier(session, dossier_id)
    data = typed_event_data(session, name, data or {})
    delivered = []
    running = (
        select(Run.id).where(Run.dossier_id == dossier.id, Run.status == RunStatus.RUNNING).order_by(Run.id)
    )
    for run_id in list(session.scalars(running)):
        run = get_run(session, run_id, lock=True)
        if run.status != RunStatus.RUNNING:
            continue
        if name in (run.waiting_messages or []):
            settled = step_run(session, run, event_received(name, data), system("event"), now)
            if settled is not None:
                delivered.append(run.id)
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.EVENT_RECEIVED,
        now,
        name=name,
        data=data,
        delivered_to=delivered,
    )
    return delivered


def known_events(session: Session) -> dict[str, dictionary.Event | None]:
    """Event key → its dictionary entry, or None for a message of a published version the dictionary does not
    have yet."""
    found: dict[str, dictionary.Event | None] = dict.fromkeys(_published_messages(session))
    found.update(dictionary.load(session).events)
    return found


# Published versions never change: the messages each one waits for are read once per process.
_MESSAGES_OF_VERSION: dict[tuple[int, str], set[str]] = {}


def _published_messages(session: Session) -> set[str]:
    names: set[str] = set()
    for version_id, checksum in session.execute(select(SequenceVersion.id, SequenceVersion.checksum)):
        key = (version_id, checksum)
        if key not in _MESSAGES_OF_VERSION:
            model = model_of(session.get(SequenceVersion, version_id))
            _MESSAGES_OF_VERSION[key] = {e.message for e in model.elements.values() if e.message}
        names |= _MESSAGES_OF_VERSION[key]
    return names


def typed_event_data(session: Session, name: str, data: dict) -> dict:
    """The event's fields parsed by their types (`1 200,50` → 1200.5). An unknown event key, a field the
    event does not carry, a missing required field or a value its type refuses: 422 naming it, closest keys
    given."""
    known = known_events(session)
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
        hint = f" Événements proches : {', '.join(close)}." if close else ""
        raise RuleBroken(
            f"Événement « {name} » inconnu du dictionnaire.{hint}",
            code="unknown_event",
            field="name",
            suggestions=close,
        )
    event = known[name]
    if event is None:
        return data  # drawn in a diagram, not yet in the dictionary: its fields are not typed
    fields = {f.key: f for f in event.fields}
    typed = {}
    for key, raw in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=3, cutoff=0.6)
            carried = ", ".join(f"{f.key} ({f.label})" for f in event.fields) or "aucun"
            raise RuleBroken(
                f"L'événement « {event.label} » ne porte pas de champ « {key} » (champs : {carried}).",
                code="unknown_event_field",
                field=f"data.{key}",
                suggestions=close,
            )
        try:
            typed[key] = parse(fields[key], raw)
        except InvalidValue as error:
            error.details["field"] = f"data.{key}"
            raise
    for field in event.fields:
        if field.required and typed.get(field.key) is None:
            raise RuleBroken(
                f"« {field.label} » est obligatoire pour l'événement « {event.label} ».",
                code="missing_event_field",
                field=f"data.{field.key}",
            )
    return {key: value for key, value in typed.items() if value is not None}


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
    element = model_of(run.version).elements.get(timer.element_id)
    fired = timer_fired(timer.task_id, timer.element_id, element.name if element is not None else None)
    step_run(session, run, fired, system("timer"), now)
    return True
