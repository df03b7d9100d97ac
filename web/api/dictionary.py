"""The dictionary: roles, dossier fields, business events and outcomes with their labels."""

from designer import dictionary_services as service
from kernel.db import unit_of_work
from runtime.runs import running_by_version

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import CREATED, allowed, api
from .schemas import EntryIn, EntryUpdate

NO_CONTENT = {204: "Removed"}


@api.get("/dictionary")
@allowed(Perm.SEQUENCES_READ)
def whole_dictionary():
    """Every entry, by kind: `{roles: [...], fields: [...], events: [...], outcomes: [...]}`."""
    return {
        kind: [service.to_dict(row) for row in service.list_entries(db.session, kind)]
        for kind in service.KINDS
    }


@api.get("/dictionary/<kind>")
@allowed(Perm.SEQUENCES_READ)
def list_entries(kind: str):
    """The entries of one kind (`roles`, `fields`, `events`, `outcomes`), by label."""
    return [service.to_dict(row) for row in service.list_entries(db.session, kind)]


@api.post("/dictionary/<kind>")
@api.doc(responses=CREATED)
@allowed(Perm.SEQUENCES_WRITE)
@api.input(EntryIn, arg_name="body")
def create_entry(kind: str, body):
    """Add an entry. 422 naming the field (key format, unknown type, a choice field without options...),
    409 `entry_exists` when the key is taken."""
    with unit_of_work(db.session):
        row = service.create_entry(db.session, kind, body, current_actor().user_id, now())
    return service.to_dict(row), 201


@api.get("/dictionary/<kind>/<key>")
@allowed(Perm.SEQUENCES_READ)
def get_entry(kind: str, key: str):
    """One entry with its changes, newest first."""
    row = service.get_entry(db.session, kind, key)
    changes = service.changes_of(db.session, kind, key)
    return {**service.to_dict(row), "changes": [service.change_dict(c) for c in changes]}


@api.put("/dictionary/<kind>/<key>")
@allowed(Perm.SEQUENCES_WRITE)
@api.input(EntryUpdate, arg_name="body")
def update_entry(kind: str, key: str, body):
    """Replace an entry's labels, help and type (its key stays). Relabelling is always allowed; changing the
    type of what a published version with running dossiers uses is refused (409 `entry_in_use`, naming the
    sequences)."""
    with unit_of_work(db.session):
        row = service.update_entry(
            db.session, kind, key, body, current_actor().user_id, now(), running_by_version(db.session)
        )
    return service.to_dict(row)


@api.delete("/dictionary/<kind>/<key>")
@api.doc(responses=NO_CONTENT)
@allowed(Perm.SEQUENCES_WRITE)
def remove_entry(kind: str, key: str):
    """Remove an entry no running dossier uses (409 `entry_in_use` otherwise, naming the sequences)."""
    with unit_of_work(db.session):
        service.remove_entry(
            db.session, kind, key, current_actor().user_id, now(), running_by_version(db.session)
        )
    return "", 204


@api.get("/dictionary/<kind>/<key>/changes")
@allowed(Perm.SEQUENCES_READ)
def entry_changes(kind: str, key: str):
    """Every change of one entry (also of a removed one), newest first: `{change, before, after, at, by}`."""
    return [service.change_dict(c) for c in service.changes_of(db.session, kind, key)]
