"""Dossiers, participants, business events, history."""


from kernel.db import unit_of_work
from runtime import dossiers as service
from runtime import workspace
from runtime.events import post_event

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import ACCEPTED, CREATED, allowed, api
from .schemas import DataIn, DossierIn, DossierPatch, EventIn, ParticipantIn, ParticipantRolesIn
from .views import dossier_dict, participant_dict


@api.post("/dossiers")
@api.doc(responses=CREATED)
@allowed(Perm.DOSSIERS_WRITE)
@api.input(DossierIn, arg_name="body")
def create_dossier(body):
    """Create a dossier with free-form data."""
    with unit_of_work(db.session):
        dossier = service.create_dossier(
            db.session, current_actor(), body["reference"], body["title"], body["data"], now()
        )
    return dossier_dict(dossier), 201


@api.get("/dossiers")
@allowed(Perm.DOSSIERS_READ)
def list_dossiers():
    """Dossiers, newest first (first 200)."""
    found = service.latest_dossiers(db.session, 200)
    return [dossier_dict(d, full=False) for d in found]


@api.get("/dossiers/<int:dossier_id>")
@allowed(Perm.ACTIONS_OWN)
def get_dossier(dossier_id: int):
    """A dossier with its participants and runs (partners: only the dossiers where they hold a role)."""
    actor = current_actor()
    dossier = service.get_dossier(db.session, dossier_id, actor)
    return dossier_dict(dossier, full=not actor.is_partner)


@api.patch("/dossiers/<int:dossier_id>")
@allowed(Perm.DOSSIERS_WRITE)
@api.input(DossierPatch, arg_name="body")
def update_dossier(dossier_id: int, body):
    """Change the title or data fields (merged into the existing data)."""
    with unit_of_work(db.session):
        dossier = service.get_dossier(db.session, dossier_id)
        service.update_dossier(
            db.session, dossier, current_actor(), now(), title=body.get("title"), data=body.get("data")
        )
    return dossier_dict(dossier)


@api.patch("/dossiers/<int:dossier_id>/data")
@allowed(Perm.DOSSIERS_WRITE)
@api.input(DataIn, arg_name="body")
def set_dossier_data(dossier_id: int, body):
    """Write dossier fields `{field: value}`, each parsed by its type in the dictionary, French input accepted
    (`15/03/2027`, `1 200,50`, `oui`); `null` or "" clears a field. 422 naming the field (an unknown key, with
    the closest ones; a value its type refuses), and nothing changes. Each change is in the history."""
    with unit_of_work(db.session):
        dossier = service.get_dossier(db.session, dossier_id)
        service.set_data(db.session, dossier, current_actor(), dict(body), now())
    return dossier_dict(dossier)


@api.post("/dossiers/<int:dossier_id>/participants")
@api.doc(responses=CREATED)
@allowed(Perm.DOSSIERS_WRITE)
@api.input(ParticipantIn, arg_name="body")
def add_participant(dossier_id: int, body):
    """Add a participant (internal, partner or contact) with the roles it holds by default; internal and
    partner participants are linked to their user account (`user_email`). 422 naming the field, 409 when
    the account or e-mail is already on the dossier."""
    with unit_of_work(db.session):
        dossier = service.get_dossier(db.session, dossier_id)
        participant = service.add_participant(
            db.session,
            dossier,
            current_actor(),
            now(),
            kind=body["kind"],
            name=body["name"],
            email=body["email"],
            phone=body["phone"],
            address=body["address"],
            user_email=body["user_email"],
            roles=body["roles"],
        )
    return participant_dict(participant), 201


@api.put("/dossiers/<int:dossier_id>/participants/<int:participant_id>/roles")
@allowed(Perm.DOSSIERS_WRITE)
@api.input(ParticipantRolesIn, arg_name="body")
def set_participant_roles(dossier_id: int, participant_id: int, body):
    """Replace the roles a participant holds by default on the dossier."""
    with unit_of_work(db.session):
        dossier = service.get_dossier(db.session, dossier_id)
        participant = service.get_participant(db.session, dossier, participant_id)
        service.set_participant_roles(db.session, participant, current_actor(), body["roles"], now())
    return participant_dict(participant)


@api.post("/dossiers/<int:dossier_id>/events")
@api.doc(responses=ACCEPTED)
@allowed(Perm.RUNS_PILOT)
@api.input(EventIn, arg_name="body")
def post_dossier_event(dossier_id: int, body):
    """Post a business event; every run waiting for it moves on. Recorded even when nobody waits."""
    with unit_of_work(db.session):
        delivered = post_event(db.session, dossier_id, current_actor(), body["name"], body["data"], now())
    return {"delivered_to": delivered}, 202


@api.get("/dossiers/<int:dossier_id>/history")
@allowed(Perm.DOSSIERS_READ)
def dossier_history(dossier_id: int):
    """Everything that happened on the dossier, oldest first."""
    service.get_dossier(db.session, dossier_id)
    entries = workspace.history(db.session, dossier_id, newest_first=False)
    return [e.to_dict() for e in entries]
