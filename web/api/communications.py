"""Communications: a dossier's outbox, letters as PDF, and the template library."""

from apiflask import Schema
from apiflask.fields import Boolean, Integer, String
from apiflask.validators import Length, OneOf
from flask import Response

from designer.models import TemplateVersion
from kernel.db import unit_of_work
from kernel.errors import NotFound
from runtime.communications import outbox, templates
from runtime.communications.models import Communication
from runtime.documents import get_document
from runtime.dossiers import get_dossier

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import CREATED, allowed, api
from .schemas import IN_RANGE
from .views import _iso

CHANNELS = ["email", "letter", "sms"]


class TemplateIn(Schema):
    key = String(required=True, validate=Length(1, 100))
    channel = String(required=True, validate=OneOf(CHANNELS))
    name = String(load_default=None, validate=Length(0, 300))
    subject = String(load_default=None, validate=Length(0, 1000))
    body = String(required=True, validate=Length(1, templates.MAX_BODY))
    html = Boolean(load_default=False)


class TemplatePut(Schema):
    channel = String(validate=OneOf(CHANNELS))
    name = String(validate=Length(0, 300))
    subject = String(validate=Length(0, 1000))
    body = String(validate=Length(1, templates.MAX_BODY))
    html = Boolean()


class VersionQuery(Schema):
    version = Integer(load_default=None, validate=IN_RANGE)


def communication_dict(c: Communication) -> dict:
    return {
        "id": c.id, "dossier_id": c.dossier_id, "run_id": c.run_id, "action_id": c.action_id,
        "participant_id": c.participant_id, "role": c.role, "channel": c.channel,
        "recipient": c.recipient_name,
        "to": c.to_address, "subject": c.subject, "body": c.body, "html": c.html, "status": c.status,
        "template": {"key": c.template_key, "version": c.template_version} if c.template_key else None,
        "message_id": c.message_id, "attempts": c.attempts, "next_attempt_at": _iso(c.next_attempt_at),
        "error": c.error, "created_at": _iso(c.created_at), "sent_at": _iso(c.sent_at),
        "failed_at": _iso(c.failed_at), "document_id": c.document_id,
        "pdf": f"/api/v1/dossiers/{c.dossier_id}/communications/{c.id}/pdf" if c.document_id else None,
    }


def template_dict(t: TemplateVersion, full: bool = True) -> dict:
    body = {"key": t.key, "version": t.version, "channel": t.channel, "name": t.name, "subject": t.subject,
            "html": t.html, "updated_at": _iso(t.created_at), "updated_by": t.created_by}
    if full:
        body["body"] = t.body
    return body


@api.get("/dossiers/<int:dossier_id>/communications")
@allowed(Perm.DOSSIERS_READ)
def dossier_communications(dossier_id: int):
    """The dossier's outbox: every communication queued, sent or failed, oldest first."""
    get_dossier(db.session, dossier_id)
    return [communication_dict(c) for c in outbox.communications_of(db.session, dossier_id)]


@api.get("/dossiers/<int:dossier_id>/communications/<int:communication_id>/pdf")
@allowed(Perm.DOSSIERS_READ)
@api.doc(responses={200: {"description": "The letter as PDF", "content": {"application/pdf": {}}}})
def communication_pdf(dossier_id: int, communication_id: int):
    """The PDF of a letter, once produced."""
    communication = outbox.get_communication(db.session, communication_id, dossier_id)
    if communication.document_id is None:
        raise NotFound("Ce courrier n'a pas encore été produit." if communication.channel == "letter"
                       else "Seuls les courriers ont un PDF.")
    document = get_document(db.session, communication.document_id)
    return Response(document.data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{document.filename}"'})


@api.get("/templates")
@allowed(Perm.SEQUENCES_READ)
def list_templates():
    """The template library: the latest version of each template."""
    return [template_dict(t, full=False) for t in templates.list_templates(db.session)]


@api.post("/templates")
@api.doc(responses=CREATED)
@allowed(Perm.SEQUENCES_WRITE)
@api.input(TemplateIn, arg_name="body")
def create_template(body):
    """Create a template (version 1). It is rendered against a sample dossier first: an error is a 422
    with the field, the line and the message."""
    with unit_of_work(db.session):
        template = templates.create_template(db.session, current_actor(), now(), key=body["key"],
                                             channel=body["channel"], body=body["body"],
                                             subject=body["subject"], name=body["name"], html=body["html"])
    return template_dict(template), 201


@api.get("/templates/<key>")
@allowed(Perm.SEQUENCES_READ)
@api.input(VersionQuery, location="query", arg_name="query")
def get_template(key: str, query):
    """A template (latest version, or ?version=n) with the list of its versions."""
    template = templates.get_template(db.session, key, query["version"])
    return {**template_dict(template),
            "versions": [{"version": v.version, "updated_at": _iso(v.created_at), "updated_by": v.created_by}
                         for v in templates.versions_of(db.session, key)]}


@api.put("/templates/<key>")
@allowed(Perm.SEQUENCES_WRITE)
@api.input(TemplatePut, arg_name="body")
def update_template(key: str, body):
    """Edit a template: saves the next version (earlier ones are kept). Checked like a creation."""
    with unit_of_work(db.session):
        template = templates.update_template(db.session, current_actor(), now(), key, body=body.get("body"),
                                             subject=body.get("subject"), channel=body.get("channel"),
                                             name=body.get("name"), html=body.get("html"))
    return template_dict(template)
