"""Sequences: drafts, validation, publication, versions."""

import hashlib

from apiflask import Schema
from apiflask.fields import Boolean, List, String
from apiflask.validators import Length
from flask import Response, g, request

from designer import drafts, services
from designer.models import Sequence
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed, UnsupportedType
from runtime.impact import publication_impact

from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import CREATED, CREATED_OR_SAME, XML, allowed, api

XML_TYPES = {"application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream"}


def _xml_body() -> bytes:
    if request.mimetype not in XML_TYPES:
        raise UnsupportedType("Envoyez le fichier BPMN avec Content-Type: application/xml.")
    return request.get_data(cache=False)


def sequence_dict(sequence: Sequence) -> dict:
    latest = sequence.latest
    draft_checksum = hashlib.sha256(sequence.draft_xml).hexdigest() if sequence.draft_xml else None
    return {
        "key": sequence.key,
        "name": sequence.name,
        "draft": sequence.draft_xml is not None,
        "draft_changed": draft_checksum is not None and (latest is None or latest.checksum != draft_checksum),
        "draft_updated_at": sequence.draft_updated_at.isoformat() if sequence.draft_updated_at else None,
        "archived": sequence.archived_at is not None,
        "archived_at": sequence.archived_at.isoformat() if sequence.archived_at else None,
        "issues": sequence.draft_issues or [],
        "latest_version": latest.number if latest else None,
        "versions": [
            {
                "version": v.number,
                "checksum": v.checksum,
                "published_at": v.published_at.isoformat(),
                "published_by": v.published_by,
            }
            for v in sequence.versions
        ],
    }


class SaveQuery(Schema):
    replace = Boolean(load_default=False)
    # The editor saving by itself: the draft history is not flooded (designer/drafts.py).
    autosave = Boolean(load_default=False)


@api.post("/sequences")
@api.doc(responses=CREATED_OR_SAME)
@allowed(Perm.SEQUENCES_WRITE)
@api.input(SaveQuery, location="query", arg_name="query")
def save_sequence(query):
    """Create the sequence whose key is the process id (body: BPMN XML). 409 `sequence_exists` when that key
    exists, unless `replace=true`: then the body becomes its new draft (200), earlier drafts are kept."""
    with unit_of_work(db.session):
        sequence, created, report = services.save_draft(
            db.session, _xml_body(), g.user.id, now(), replace=query["replace"], autosave=query["autosave"]
        )
    body = {
        "key": sequence.key,
        "name": sequence.name,
        "draft": True,
        "issues": [i.to_dict() for i in report.issues],
    }
    return body, 201 if created else 200


@api.post("/sequences/validate")
@allowed(Perm.SEQUENCES_WRITE)
def validate_sequence():
    """Validate a BPMN file without storing anything; called sequences are checked against published ones and
    send tasks against the template library. `warnings` (a faulty layout) do not stop publication."""
    report = services.check(db.session, _xml_body(), for_publication=True)
    return {
        "valid": report.valid,
        "issues": [i.to_dict() for i in report.issues],
        "warnings": [w.to_dict() for w in report.warnings],
    }


@api.post("/sequences/<key>/publish")
@api.doc(responses=CREATED_OR_SAME)
@allowed(Perm.SEQUENCES_WRITE)
def publish_sequence(key: str):
    """Publish the draft as a new immutable version (422 with the issues when invalid). Optional JSON body
    `{"note": "..."}`: the release note kept with the new version."""
    note = _publish_body().get("note")
    before = services.get_sequence(db.session, key).latest
    # A refusal is committed too: it keeps the refreshed list of problems on the draft.
    with unit_of_work(db.session, commit_on=(DomainError,)):
        version = services.publish_version(db.session, key, g.user.id, now(), note=note)
    status = 200 if before is not None and before.id == version.id else 201
    return {"key": key, "version": version.number, "checksum": version.checksum}, status


def _publish_body() -> dict:
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Malformed("Le corps doit être un objet JSON, par exemple {\"note\": \"...\"}.", field="body")
    return body


@api.get("/sequences/<key>/impact")
@allowed(Perm.SEQUENCES_READ)
def publication_impact_of(key: str):
    """What publishing the draft now would touch: the next version number, and the dossiers whose runs are
    in progress on earlier versions (they keep their version), per version."""
    return publication_impact(db.session, key).to_dict()


class PublishBatchIn(Schema):
    keys = List(String(validate=Length(1, 200)), required=True, validate=Length(1, 50))


@api.post("/sequences/publish")
@api.doc(responses=CREATED)
@allowed(Perm.SEQUENCES_WRITE)
@api.input(PublishBatchIn, arg_name="body")
def publish_batch(body):
    """Publish several drafts together, all or none (sequences that switch into each other)."""
    # A refusal is committed too: it keeps the refreshed list of problems on each draft.
    with unit_of_work(db.session, commit_on=(DomainError,)):
        versions = services.publish_versions(db.session, body["keys"], g.user.id, now())
    return {"published": [{"key": v.key, "version": v.number, "checksum": v.checksum} for v in versions]}, 201


@api.get("/sequences")
@allowed(Perm.SEQUENCES_READ)
def list_sequences():
    """Every sequence with its versions and draft state."""
    return [sequence_dict(s) for s in services.list_sequences(db.session)]


@api.get("/sequences/<key>")
@allowed(Perm.SEQUENCES_READ)
def get_sequence(key: str):
    """One sequence with its versions and draft state."""
    return sequence_dict(services.get_sequence(db.session, key))


@api.get("/sequences/<key>/draft")
@api.doc(responses=XML)
@allowed(Perm.SEQUENCES_READ)
def get_draft(key: str):
    """The draft's BPMN XML."""
    sequence = services.get_sequence(db.session, key)
    if sequence.draft_xml is None:
        raise services.NotFound(f"La séquence « {key} » n'a pas de brouillon.")
    return Response(sequence.draft_xml, mimetype="application/xml")


@api.get("/sequences/<key>/versions/<int:number>")
@api.doc(responses=XML)
@allowed(Perm.SEQUENCES_READ)
def get_version(key: str, number: int):
    """The published BPMN XML, byte for byte."""
    version = services.get_version(db.session, key, number)
    return Response(version.xml, mimetype="application/xml", headers={"X-Checksum-SHA256": version.checksum})


@api.get("/sequences/<key>/drafts")
@allowed(Perm.SEQUENCES_READ)
def list_drafts(key: str):
    """The drafts saved in the last 30 days, newest (the current draft) first: who, when, title, elements."""
    sequence = services.get_sequence(db.session, key)
    return [entry.to_dict() for entry in drafts.list_drafts(db.session, sequence, now())]


@api.post("/sequences/<key>/drafts/<int:draft_id>/restore")
@allowed(Perm.SEQUENCES_WRITE)
def restore_draft(key: str, draft_id: int):
    """Make an earlier draft the current one; it is kept as a new draft, nothing is deleted."""
    with unit_of_work(db.session):
        sequence = services.restore_draft(db.session, key, draft_id, g.user.id, now())
    return sequence_dict(sequence)


@api.post("/sequences/<key>/archive")
@allowed(Perm.SEQUENCES_WRITE)
def archive_sequence(key: str):
    """No longer offered nor launched by hand (422 `sequence_archived`); running dossiers go on."""
    with unit_of_work(db.session):
        sequence = services.archive_sequence(db.session, key, g.user.id, now())
    return sequence_dict(sequence)


@api.post("/sequences/<key>/unarchive")
@allowed(Perm.SEQUENCES_WRITE)
def unarchive_sequence(key: str):
    """Offer the sequence for launch again."""
    with unit_of_work(db.session):
        sequence = services.unarchive_sequence(db.session, key)
    return sequence_dict(sequence)


@api.delete("/sequences/<key>")
@api.doc(responses={204: "Deleted"})
@allowed(Perm.SEQUENCES_WRITE)
def delete_sequence(key: str):
    """Delete a never-published sequence and its drafts (422 `published_sequence` once published)."""
    with unit_of_work(db.session):
        services.delete_sequence(db.session, key)
    return "", 204
