"""Runs: launch, read, pilot (roles, interrupt, switch, adapt), retry."""

from kernel.db import unit_of_work
from runtime import runs as service
from runtime.stepper import open_actions

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import CREATED, allowed, api
from .schemas import AdhocIn, MoveBackIn, ReasonIn, RolesIn, RunIn, SwitchIn
from .views import action_dict, run_dict


def _run_answer(change, status: int = 200):
    """Makes the change (one unit of work) and answers with the run it returns, as it is in the database."""
    with unit_of_work(db.session):
        run = change()
        answer = run_dict(run, open_actions(db.session, run), now())
    return answer, status


@api.post("/dossiers/<int:dossier_id>/runs")
@api.doc(responses=CREATED)
@allowed(Perm.RUNS_PILOT)
@api.input(RunIn, arg_name="body")
def launch_run(dossier_id: int, body):
    """Launch a published sequence on the dossier (422 unassigned_roles when a role has no holder, 422
    unreachable_contacts when a communication's recipient lacks the address its channel needs; 409
    already_running, with the running run's id, when it already runs there, unless `confirm`)."""
    return _run_answer(
        lambda: service.launch_run(
            db.session,
            dossier_id,
            current_actor(),
            now(),
            sequence=body["sequence"],
            version=body["version"],
            roles=body["roles"],
            allow_unassigned=body["allow_unassigned"],
            allow_unreachable=body["allow_unreachable"],
            confirm=body["confirm"],
        ),
        201,
    )


@api.get("/runs/<int:run_id>")
@allowed(Perm.DOSSIERS_READ)
def get_run(run_id: int):
    """A run with its role holders, open actions and active elements."""
    run = service.get_run(db.session, run_id)
    return run_dict(run, open_actions(db.session, run), now())


@api.put("/runs/<int:run_id>/roles/<role>")
@allowed(Perm.RUNS_PILOT)
@api.input(RolesIn, arg_name="body")
def set_role(run_id: int, role: str, body):
    """Change who holds a role in this run; open actions move at once."""
    return _run_answer(
        lambda: service.set_role_holders(
            db.session, run_id, current_actor(), role, body["participant_ids"], now()
        )
    )


@api.post("/runs/<int:run_id>/interrupt")
@allowed(Perm.RUNS_PILOT)
@api.input(ReasonIn, arg_name="body")
def interrupt(run_id: int, body):
    """Interrupt the run with a reason; its open actions are cancelled."""
    return _run_answer(
        lambda: service.interrupt_run(db.session, run_id, current_actor(), body["reason"], now())
    )


@api.post("/runs/<int:run_id>/switch")
@api.doc(responses=CREATED)
@allowed(Perm.RUNS_PILOT)
@api.input(SwitchIn, arg_name="body")
def switch(run_id: int, body):
    """End the run as switched and launch another sequence, role holders carried over."""
    return _run_answer(
        lambda: service.switch_run(
            db.session,
            run_id,
            current_actor(),
            now(),
            sequence=body["sequence"],
            reason=body["reason"],
            roles=body["roles"],
        ),
        201,
    )


@api.post("/runs/<int:run_id>/actions")
@api.doc(responses=CREATED)
@allowed(Perm.RUNS_PILOT)
@api.input(AdhocIn, arg_name="body")
def add_action(run_id: int, body):
    """Add an ad hoc action to the run; it does not change the path."""
    with unit_of_work(db.session):
        action = service.add_adhoc_action(
            db.session,
            run_id,
            current_actor(),
            now(),
            name=body["name"],
            role=body["role"],
            due_at=body["due_at"],
        )
    return action_dict(action, now()), 201


@api.get("/runs/<int:run_id>/steps")
@allowed(Perm.DOSSIERS_READ)
def steps(run_id: int):
    """The recent steps the run can be moved back to."""
    run = service.get_run(db.session, run_id)
    return [
        {"step": c.step, "elements": c.elements, "reached_at": c.created_at.isoformat()}
        for c in service.checkpoints(db.session, run)
    ]


@api.post("/runs/<int:run_id>/back")
@allowed(Perm.RUNS_PILOT)
@api.input(MoveBackIn, arg_name="body")
def move_back(run_id: int, body):
    """Move the run back to an earlier step, with a reason; the steps in between stay in history."""
    return _run_answer(
        lambda: service.move_back(
            db.session, run_id, current_actor(), now(), step=body["step"], reason=body["reason"]
        )
    )


@api.post("/runs/<int:run_id>/retry")
@allowed(Perm.RUNS_PILOT)
def retry(run_id: int):
    """Retry a failed run once the cause is fixed (managers, admins: as from the dossier page)."""
    return _run_answer(lambda: service.retry_run(db.session, run_id, current_actor(), now()))
