"""The engine state moved from one version of a sequence to another (bpmn/engine_migrate.py), without a
database: onto an identical version nothing changes, whatever the run waits for (tasks, boundary timers,
event-based gateways, parallel branches); ids are kept, so the runtime keeps its actions and timer rows."""

import random
from datetime import UTC, datetime

import pytest

from bpmn.engine import Engine, SpecBundle
from bpmn.engine_migrate import MigrationRefused, migrate
from bpmn.spec import build_spec, load_spec
from web.demo import LIBRARY

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
DOSSIER = {"balance": 1300, "monthly_rent": 650, "caf_beneficiary": True, "has_guarantor": True,
           "landlord_kind": "personne_morale", "hearing_date": "2027-06-01", "installments": 3}
V2 = LIBRARY.parent.parent / "tests" / "data" / "bpmn" / "s2_precontentieux_v2.bpmn"


def bundle(data: bytes) -> SpecBundle:
    return SpecBundle(load_spec(build_spec(data)))


def context() -> dict:
    return {"dossier": dict(DOSSIER), "now": NOW, "holidays": None}


def waits(engine: Engine) -> tuple:
    return (
        [(t.task_id, t.element_id) for t in engine.open_tasks()],
        [(t.task_id, t.element_id, t.value) for t in engine.waiting_timers()],
        sorted(engine.waiting_messages()),
        engine.active_elements(),
    )


RESULT = {"status": "done", "outcome": None, "completed_at": NOW.isoformat()}


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.bpmn")), ids=lambda p: p.stem)
def test_onto_an_identical_version_nothing_changes(path):
    spec = bundle(path.read_bytes())
    chance = random.Random(path.stem)
    engine = Engine.start(spec, context())
    results = {}
    for _step in range(12):
        if engine.is_completed():
            break
        moved, _ = migrate(Engine.restore(spec, engine.dump(), context()), spec, {}, context(),
                           {"actions": results})
        assert waits(moved) == waits(engine)
        tasks, timers = engine.open_tasks(), engine.waiting_timers()
        if tasks and (not timers or chance.random() < 0.7):
            task = chance.choice(tasks)
            results[task.element_id] = {**RESULT, "outcome": None}
            engine.complete(task.task_id, {"status": "done", "outcome": None, "actions": dict(results)})
        elif timers:
            engine.fire_timer(chance.choice(timers).task_id)
        else:
            break


def test_a_step_without_counterpart_is_refused_with_its_id():
    v1 = bundle((LIBRARY / "s2_precontentieux.bpmn").read_bytes())
    engine = Engine.start(v1, context())
    [task] = engine.open_tasks()
    engine.complete(task.task_id, {"status": "done", "outcome": None, "actions": {}})
    [task] = engine.open_tasks()
    engine.complete(task.task_id, {"status": "done", "outcome": "not_found", "actions": {}})
    assert [t.element_id for t in engine.open_tasks()] == ["Rechercher_adresse"]
    v2 = bundle(V2.read_bytes())
    with pytest.raises(MigrationRefused) as refused:
        migrate(Engine.restore(v1, engine.dump(), context()), v2, {}, context())
    assert refused.value.element_id == "Rechercher_adresse"
    with pytest.raises(MigrationRefused, match="autre nature"):
        wrong = {"Rechercher_adresse": "Attente"}
        migrate(Engine.restore(v1, engine.dump(), context()), v2, wrong, context())
    moved, what = migrate(Engine.restore(v1, engine.dump(), context()), v2,
                          {"Rechercher_adresse": "Enqueter_adresse"}, context())
    assert [(t.task_id, t.element_id) for t in moved.open_tasks()] == [
        (task.task_id, "Enqueter_adresse") for task in engine.open_tasks()]
    assert what.waits == {"Rechercher_adresse": "Enqueter_adresse"}
    # The moved run goes on in version 2: back to the service.
    [task] = moved.open_tasks()
    moved.complete(task.task_id, {"status": "done", "outcome": None, "actions": {}})
    assert [t.element_id for t in moved.open_tasks()] == ["Signifier_commandement"]
