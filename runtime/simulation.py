"""Simulation of a draft on the real engine, before publishing: nothing is stored.

The draft is validated, started on a fresh engine and the chosen steps are replayed, so the answer (open
actions, waiting timers and events, active elements, end) is exactly what a run of that draft would show."""

from datetime import datetime

from sqlalchemy.orm import Session

from bpmn.dialect import SequenceModel
from bpmn.durations import describe_duration, holidays_for, parse_cycle, parse_duration
from bpmn.engine import Engine, EngineError, SpecBundle
from bpmn.spec import load_spec
from bpmn.validation import validate
from kernel.errors import InvalidSequence, Issue, Malformed, NotFound, RuleBroken

from .actions import ANY_TYPE, ENDING_STATUSES, ending_statuses
from .models import action_type
from .places import departement
from .specs import called_versions, spec_of
from .stepper import timer_due

MAX_STEPS = 500
# The simulation's history is written for people, in French and English: statuses in words, delays in words.
STATUS_WORDS = {
    "done": ("fait", "done"), "validated": ("validé", "validated"), "cancelled": ("annulé", "cancelled"),
    "skipped": ("sauté", "skipped"), "failed": ("en échec", "failed"),
}  # fmt: skip


def simulate_draft(session: Session, data: bytes, steps, dossier, now: datetime) -> dict:
    """Replays `steps` (`[{kind: complete|timer|message, element_id?, status?, outcome?, name?, payload?}]`)
    on the draft `data`, for a dossier whose data is `dossier`."""
    steps = steps or []
    if not isinstance(steps, list) or len(steps) > MAX_STEPS or not all(isinstance(s, dict) for s in steps):
        raise Malformed(f"« steps » doit être une liste d'au plus {MAX_STEPS} étapes.")
    dossier = dossier or {}
    if not isinstance(dossier, dict):
        raise Malformed("« dossier » doit être un objet (les données du dossier fictif).")
    report = validate(data)
    if not report.valid:
        raise InvalidSequence(report.issues, "Corrigez ces problèmes avant de simuler.")
    models = {report.model.key: report.model}
    called = {}
    try:
        versions = called_versions(session, report.model)
    except NotFound as error:
        key = error.details["key"]
        raise InvalidSequence([Issue(None, "called_sequence_unknown",
                                     f"La séquence appelée « {key} » n'est pas publiée : publiez-la "
                                     "d'abord pour simuler celle-ci.")]) from error
    for key, version in versions.items():
        called[key] = spec_of(version)
        models[key] = SequenceModel.from_dict(version.model)
    bundle = SpecBundle(top=load_spec(report.spec), called=called)
    return simulate(bundle, models, steps, dossier, now)


def simulate(bundle: SpecBundle, models: dict[str, SequenceModel], steps: list[dict], dossier: dict,
             at: datetime) -> dict:
    place = holidays_for(departement(dossier))
    context = {"dossier": dossier, "now": at, "holidays": place}
    engine = _engine(lambda: Engine.start(bundle, context, prune=False))
    done: dict[str, dict] = {}
    log = [("Départ de la séquence.", "The sequence starts.")]
    for number, step in enumerate(steps, start=1):
        log.append(_apply(engine, models, step, number, done, at))
    open_actions = []
    for task in engine.open_tasks():
        element = models.get(task.process_key, SequenceModel(None, None)).elements.get(task.element_id)
        kind = action_type(element)
        model = models.get(task.process_key, SequenceModel(None, None))
        role = model.roles.get(element.role) if element and element.role else None
        open_actions.append({
            "element_id": task.element_id, "name": task.name or task.element_id, "type": kind,
            "role": element.role if element else None, "role_name": (role.name if role else None),
            "outcomes": list(element.outcomes) if element else [],
            # The usual ending first: it is what the simulation proposes.
            "statuses": [*sorted(ENDING_STATUSES.get(kind, {"done"})), *sorted(ANY_TYPE)],
        })
    timers = []
    for t in engine.waiting_timers():
        element = models.get(t.process_key, SequenceModel(None, None)).elements.get(t.element_id)
        calendar = (element.timer or {}).get("calendar", "calendar") if element else "calendar"
        # counted as the runtime will count it, with its explanation ({"fr", "en"})
        due_at, note = timer_due(t.kind, t.value, calendar, dossier, at, place,
                                 element.not_during if element else None)
        timers.append({"element_id": t.element_id, "kind": t.kind, "value": t.value,
                       "name": _name(models, t.process_key, t.element_id), "due_at": due_at.isoformat(),
                       "note": note})
    ended = engine.is_completed()
    ends = engine.end_events_reached()
    if ended:
        log.append(("Séquence terminée" + (" (fin immédiate)." if engine.terminated else "."),
                    "Sequence ended" + (" (immediate end)." if engine.terminated else ".")))
    return {"ended": ended, "terminated": engine.terminated, "end_events": ends,
            "ends": [{"element_id": end, "name": _end_name(models, end)} for end in ends],
            "open_actions": open_actions, "timers": timers, "messages": sorted(engine.waiting_messages()),
            "active_elements": engine.active_elements(), "log": [fr for fr, _en in log],
            "log_en": [en for _fr, en in log]}


def _apply(engine: Engine, models: dict, step: dict, number: int, done: dict, at: datetime) -> str:
    kind, element_id = step.get("kind"), step.get("element_id")
    if kind == "complete":
        task = next((t for t in engine.open_tasks() if t.element_id == element_id), None)
        if task is None:
            raise _step_error(number, f"l'action « {element_id} » n'est pas ouverte.")
        element = models.get(task.process_key, SequenceModel(None, None)).elements.get(element_id)
        status, outcome = step.get("status") or "done", step.get("outcome") or None
        possible = ending_statuses(action_type(element))
        if status not in possible:
            raise _step_error(number, f"statut « {status} » impossible ici ({', '.join(sorted(possible))}).")
        if outcome is not None and element is not None and outcome not in element.outcomes:
            raise _step_error(number, f"résultat « {outcome} » inconnu de « {element_id} ».")
        done[element_id] = {"status": status, "outcome": outcome, "completed_at": at.isoformat()}
        _engine(lambda: engine.complete(task.task_id, {"status": status, "outcome": outcome,
                                                         "actions": dict(done)}))
        fr, en = STATUS_WORDS.get(status, (status, status))
        name = task.name or element_id
        return (f"Action « {name} » terminée : {fr}" + (f", résultat « {outcome} »." if outcome else "."),
                f"Action “{name}” ended: {en}" + (f", outcome “{outcome}”." if outcome else "."))
    if kind == "timer":
        timer = next((t for t in engine.waiting_timers() if t.element_id == element_id), None)
        if timer is None:
            raise _step_error(number, f"aucun délai « {element_id} » n'attend.")
        _engine(lambda: engine.fire_timer(timer.task_id))
        name = _name(models, timer.process_key, element_id)
        element = models.get(timer.process_key, SequenceModel(None, None)).elements.get(element_id)
        fr, en = _delay_words(timer.kind, timer.value, element.calendar if element else "calendar")
        return f"Délai « {name} » écoulé{fr}.", f"Delay “{name}” over{en}."

    if kind == "message":
        name = step.get("name")
        if not _engine(lambda: engine.deliver(name, step.get("payload") or {})):
            raise _step_error(number, f"personne n'attend l'événement « {name} ».")
        return f"Événement « {name} » reçu.", f"Event “{name}” received."
    raise _step_error(number, f"type d'étape inconnu {kind!r} (complete, timer ou message).")


def _engine(operation):
    try:
        return operation()
    except EngineError as error:
        raise RuleBroken(f"Le moteur s'est arrêté : {error.message}", code="simulation_failed",
                         element_id=error.element_id) from error


def _step_error(number: int, why: str) -> RuleBroken:
    return RuleBroken(f"Étape {number} : {why}", code="simulation_step", step=number)


def _delay_words(kind: str, value: str, calendar: str) -> tuple[str, str]:
    """" (6 semaines)" / " (6 weeks)" for a delay or a cycle; nothing for a date (the note says it)."""
    try:
        if kind == "duration":
            duration = parse_duration(value)
        elif kind == "cycle":
            duration = parse_cycle(value)[1]
        else:
            return "", ""
    except ValueError:
        return "", ""
    return tuple(f" ({describe_duration(duration, calendar, lang)})" for lang in ("fr", "en"))


def _end_name(models: dict, element_id: str) -> str:
    for model in models.values():
        element = model.elements.get(element_id)
        if element is not None and element.name:
            return element.name
    return element_id


def _name(models: dict, process_key: str, element_id: str) -> str:
    element = models.get(process_key, SequenceModel(None, None)).elements.get(element_id)
    return (element.name if element and element.name else None) or element_id
