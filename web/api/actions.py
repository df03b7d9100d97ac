"""Actions: the lists people work from, and completion."""

from kernel.db import unit_of_work
from runtime import actions as service
from runtime import handover
from runtime.models import Action
from runtime.stepper import open_actions

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import allowed, api
from .schemas import ActionsQuery, CompleteIn, HandoverIn
from .views import action_dict, run_dict


@api.get("/actions")
@allowed(Perm.ACTIONS_OWN)
@api.input(ActionsQuery, location="query", arg_name="query")
def list_actions(query):
    """Actions, filtered; partners only ever see the actions of the roles they hold."""
    actor = current_actor()
    found = service.list_actions(
        db.session,
        actor,
        dossier_id=query["dossier_id"],
        run_id=query["run_id"],
        status=query["status"],
        mine=query["mine"],
        unassigned=query["unassigned"],
        limit=max(1, min(query["limit"], 1000)),
        offset=max(0, query["offset"]),
    )
    at = now()
    return [action_dict(a, at, actor) for a in found]


@api.get("/actions/<int:action_id>")
@allowed(Perm.ACTIONS_OWN)
def get_action(action_id: int):
    """One action."""
    actor = current_actor()
    return action_dict(service.get_action(db.session, action_id, actor, with_holders=True), now(), actor)


@api.post("/actions/<int:action_id>/complete")
@allowed(Perm.ACTIONS_OWN)
@api.input(CompleteIn, arg_name="body")
def complete(action_id: int, body):
    """End an open action with a status and an optional outcome; the run moves on (409 if no longer open).
    `data` fills the action's form: a missing required field or a value that cannot be read answers 422
    naming the field (`field`, and `fields` with each problem), and nothing changes."""
    actor = current_actor()
    at = now()
    with unit_of_work(db.session):
        action, settled = service.complete_action(
            db.session, action_id, actor, body["status"], body["outcome"], body["comment"], at, body["data"]
        )
    # What the completion loaded is still there after the commit (expire_on_commit is off).
    run = action.run
    created: list[Action] = settled.created if settled else []
    if actor.is_partner:
        visible = {a.id for a in service.list_actions(db.session, actor, run_id=run.id, status="open")}
        created = [a for a in created if a.id in visible]
        answer = {
            "action": action_dict(action, at, actor),
            "next_actions": [action_dict(a, at, actor) for a in created],
            "run": {"id": run.id, "status": run.status},
        }
    else:
        answer = {
            "action": action_dict(action, at),
            "next_actions": [action_dict(a, at) for a in created],
            "run": run_dict(run, settled.open if settled else open_actions(db.session, run), at),
        }
    return answer


def _handover_dict(plan: handover.Handover) -> dict:
    return {
        "user_id": plan.user.id,
        "actions": plan.actions,
        "dossiers": [
            {
                "dossier_id": d.dossier_id,
                "reference": d.reference,
                "action_ids": [action_id for action_id, _name in d.actions],
                "roles": [{"run_id": run_id, "role": role} for run_id, role in d.roles],
                "participant_added": d.participant_id is None,
            }
            for d in plan.dossiers
        ],
        "moved": plan.moved,
        "gone": plan.gone,
        "problems": plan.problems,
    }


@api.post("/actions/handover")
@allowed(Perm.RUNS_PILOT)
@api.input(HandoverIn, arg_name="body")
def hand_over(body):
    """Hand open actions to a user: they become the holder of each action's role in its run (one history
    entry per dossier). With `dry_run`, the preview: what would change and what would be refused."""
    if body["dry_run"]:
        return _handover_dict(handover.plan_handover(db.session, body["action_ids"], body["user_id"]))
    with unit_of_work(db.session):
        plan = handover.hand_over(db.session, current_actor(), now(), body["action_ids"], body["user_id"])
    return _handover_dict(plan)


@api.post("/actions/<int:action_id>/take")
@allowed(Perm.RUNS_PILOT)
def take(action_id: int):
    """Take an open action nobody holds: the caller becomes the holder of its role (409 if someone does)."""
    with unit_of_work(db.session):
        plan = handover.take_action(db.session, action_id, current_actor(), now())
    return _handover_dict(plan)
