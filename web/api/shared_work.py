"""Documents of a dossier (uploaded, shared with its partners) and comment threads of actions and dossiers."""

from apiflask import Schema
from apiflask.fields import Boolean, String
from apiflask.validators import Length
from flask import request

from kernel.db import unit_of_work
from kernel.errors import Malformed
from runtime import comments, documents
from runtime.actions import get_action
from runtime.dossiers import get_dossier

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm
from . import CREATED, allowed, api
from .views import _iso

UPLOAD_ENDPOINTS = {"api.upload_documents"}


class ShareIn(Schema):
    shared = Boolean(required=True)


class CommentIn(Schema):
    body = String(required=True, validate=Length(1, comments.MAX_BODY))


@api.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Before the body is read: a few files of up to 10 MB each.
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = documents.MAX_FILES * documents.MAX_BYTES + 1024 * 1024


def document_dict(document, shared: set[int]) -> dict:
    return {
        "id": document.id,
        "dossier_id": document.dossier_id,
        "action_id": document.action_id,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "shared": document.id in shared,
        "uploaded_by": document.uploaded_by,
        "created_at": _iso(document.created_at),
    }


def comment_dict(shown: comments.Shown) -> dict:
    return {
        "id": shown.id,
        "action_id": shown.action_id,
        "action": shown.action_name,
        "author": shown.author,
        "by_partner": shown.by_partner,
        "body": shown.body,
        "at": _iso(shown.at),
    }


@api.get("/dossiers/<int:dossier_id>/documents")
@allowed(Perm.DOSSIERS_READ)
def list_documents(dossier_id: int):
    """The dossier's documents, oldest first, each saying whether its partners see it."""
    get_dossier(db.session, dossier_id)
    shared = documents.shared_ids(db.session, dossier_id)
    return [document_dict(d, shared) for d in documents.documents_of(db.session, dossier_id)]


@api.post("/dossiers/<int:dossier_id>/documents")
@api.doc(responses=CREATED)
@allowed(Perm.DOSSIERS_WRITE)
def upload_documents(dossier_id: int):
    """Uploads up to 3 files (multipart field `files`; `shared=true` shows them to the dossier's partners).
    Every file is checked first: one refused (413, 415, 400 naming it) and none is stored."""
    files = [(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]
    shared = request.form.get("shared", "").lower() in ("1", "true", "yes", "on")
    with unit_of_work(db.session):
        get_dossier(db.session, dossier_id)
        if not files:
            raise Malformed("Aucun fichier : envoyez-les dans le champ « files ».", field="files")
        added = documents.add_documents(db.session, dossier_id, current_actor(), files, now(), shared=shared)
        ids = documents.shared_ids(db.session, dossier_id)
        answer = [document_dict(d, ids) for d in added]
    return answer, 201


@api.put("/dossiers/<int:dossier_id>/documents/<int:document_id>/shared")
@allowed(Perm.DOSSIERS_WRITE)
@api.input(ShareIn, arg_name="body")
def share_document(dossier_id: int, document_id: int, body):
    """Shows the document to the dossier's partners, or stops showing it."""
    with unit_of_work(db.session):
        document = documents.dossier_document(db.session, dossier_id, document_id)
        documents.share(db.session, document, current_actor(), body["shared"], now())
        answer = document_dict(document, documents.shared_ids(db.session, dossier_id))
    return answer


@api.get("/actions/<int:action_id>/comments")
@allowed(Perm.ACTIONS_OWN)
def action_comments(action_id: int):
    """The action's thread, oldest first (partners: only on the actions they hold)."""
    action = get_action(db.session, action_id, current_actor())
    return [
        comment_dict(c) for c in comments.thread(db.session, action.dossier_id, current_actor(), action_id)
    ]


@api.post("/actions/<int:action_id>/comments")
@api.doc(responses=CREATED)
@allowed(Perm.ACTIONS_OWN)
@api.input(CommentIn, arg_name="body")
def comment_action(action_id: int, body):
    """Adds a comment to the action's thread; it is also an entry of the dossier's history."""
    actor = current_actor()
    with unit_of_work(db.session):
        action = get_action(db.session, action_id, actor)
        comments.add_comment(db.session, actor, action.dossier_id, action_id, body["body"], now())
        thread = comments.thread(db.session, action.dossier_id, actor, action_id)
    return comment_dict(thread[-1]), 201


@api.get("/dossiers/<int:dossier_id>/comments")
@allowed(Perm.DOSSIERS_READ)
def dossier_comments(dossier_id: int):
    """Every comment of the dossier (its own thread and its actions'), oldest first."""
    get_dossier(db.session, dossier_id)
    found = comments.thread(db.session, dossier_id, current_actor(), whole_dossier=True)
    return [comment_dict(c) for c in found]


@api.post("/dossiers/<int:dossier_id>/comments")
@api.doc(responses=CREATED)
@allowed(Perm.DOSSIERS_WRITE)
@api.input(CommentIn, arg_name="body")
def comment_dossier(dossier_id: int, body):
    """Adds a comment to the dossier's own thread (internal: partners never see it)."""
    actor = current_actor()
    with unit_of_work(db.session):
        comments.add_comment(db.session, actor, dossier_id, None, body["body"], now())
        thread = comments.thread(db.session, dossier_id, actor)
    return comment_dict(thread[-1]), 201
