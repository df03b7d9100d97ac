"""Moving running dossiers to another version of their sequence: the plan, the migration or its preview."""

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, Raw, String

from runtime import migrations as service

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import allowed, api
from .schemas import IN_RANGE


class MigrationIn(Schema):
    from_version = Integer(required=True, validate=IN_RANGE)
    to_version = Integer(required=True, validate=IN_RANGE)
    mapping = Dict(keys=String(), values=String(), load_default=dict)
    # "all", or a list of dossier ids (checked by the service, which names the field)
    dossiers = Raw(
        load_default="all",
        metadata={
            "oneOf": [{"type": "string", "enum": ["all"]}, {"type": "array", "items": {"type": "integer"}}]
        },
    )
    dry_run = Boolean(load_default=False)
    restart_timers = Boolean(load_default=False)


class PlanIn(Schema):
    from_version = Integer(required=True, validate=IN_RANGE)
    to_version = Integer(required=True, validate=IN_RANGE)
    mapping = Dict(keys=String(), values=String(), load_default=dict)


@api.post("/sequences/<key>/migrations")
@allowed(Perm.RUNS_PILOT)
@api.input(MigrationIn, arg_name="body")
def migrate(key: str, body):
    """Move the running dossiers of `from_version` to `to_version` (or preview it with `dry_run`): one report
    per dossier `{dossier_id, status: migrated|left_out|would_migrate, reason, actions: {kept, cancelled,
    created}, timers: [{element_id, due_at}], unassigned_roles}`. Each dossier is migrated in its own
    transaction; a timer kept counts its new delay from when its wait started unless `restart_timers`."""
    return service.migrate_runs(
        db.session,
        key,
        current_actor(),
        now,
        from_version=body["from_version"],
        to_version=body["to_version"],
        mapping=body["mapping"],
        dossiers=body["dossiers"],
        dry_run=body["dry_run"],
        restart_timers=body["restart_timers"],
    )


@api.post("/sequences/<key>/migrations/plan")
@allowed(Perm.RUNS_PILOT)
@api.input(PlanIn, arg_name="body")
def plan(key: str, body):
    """The waiting points of `from_version`, the dossiers waiting at each and their counterpart in
    `to_version` (drafted from the same element id, or as `mapping` says)."""
    return service.plan_migration(db.session, key, body["from_version"], body["to_version"], body["mapping"])
