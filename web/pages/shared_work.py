"""What managers and partners share on a dossier: the documents managers upload and choose to show to the
partners, the comment threads of the dossier and of its actions, and the previews of PDFs and images.
The dossier page's « Documents et échanges » tab; the portal's side is in portal.py."""

import io

from flask import Response, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _

from kernel.db import unit_of_work
from kernel.errors import DomainError, NotFound
from runtime import comments, documents
from runtime.dossiers import get_dossier

from ..actors import current_actor
from ..clock import now
from ..errors import status_of
from ..extensions import db
from ..permissions import Perm
from . import pages
from .auth import page_allowed
from .workspace import attempt

UPLOAD_ENDPOINTS = {"pages.dossier_upload", "pages.portal_notes"}


def uploads() -> list[tuple[str, bytes]]:
    """The files of the request's form (`files`), read; an empty file input gives none."""
    return [(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]


def upload_limits() -> dict:
    return {
        "max_mb": documents.MAX_BYTES // (1024 * 1024),
        "max_files": documents.MAX_FILES,
        "accept": ",".join(f".{e}" for e in documents.ALLOWED_TYPES),
    }


def documents_tab(dossier) -> dict:
    """The context of the dossier page's documents tab."""
    actor = current_actor()
    found = documents.documents_of(db.session, dossier.id)
    return {
        "documents": found,
        "shared_ids": documents.shared_ids(db.session, dossier.id),
        "previewed": {d.id for d in found if d.content_type in documents.PREVIEWED},
        "thread": comments.thread(db.session, dossier.id, actor, whole_dossier=True),
        "commentable": comments.commentable_actions(db.session, dossier.id),
        **upload_limits(),
    }


def inline(document) -> Response:
    """A PDF or an image shown in the page (same origin only); any other type is downloaded."""
    shown = document.content_type in documents.PREVIEWED
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=not shown,
        download_name=document.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if shown:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
        )
    return response


def _back(dossier_id: int) -> str:
    return url_for("pages.dossier_page", dossier_id=dossier_id, tab="documents")


def _again(dossier_id: int, error: DomainError, **typed):
    from .dossiers import _dossier_page  # here: the dossier page includes this tab

    return _dossier_page(dossier_id, "documents", form_error=error, typed=typed), status_of(error)


@pages.route("/dossiers/<int:dossier_id>/documents", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_upload(dossier_id: int):
    shared = request.form.get("shared") == "1"
    try:
        files = uploads()
        if not files:
            raise DomainError(_("Choisissez au moins un fichier."), field="files")
        with unit_of_work(db.session):
            get_dossier(db.session, dossier_id)
            added = documents.add_documents(
                db.session, dossier_id, current_actor(), files, now(), shared=shared
            )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _again(dossier_id, error, shared=shared)
    flash(_("%(n)d document(s) ajouté(s) au dossier.", n=len(added)), "success")
    return redirect(_back(dossier_id), code=303)


@pages.route("/dossiers/<int:dossier_id>/documents/<int:document_id>/share", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_share(dossier_id: int, document_id: int):
    document = _document(dossier_id, document_id)
    shared = request.form.get("shared") == "1"
    message = (
        _("« %(name)s » est partagé avec les partenaires du dossier.", name=document.filename)
        if shared
        else _("« %(name)s » n’est plus partagé avec les partenaires.", name=document.filename)
    )
    return attempt(
        lambda: documents.share(db.session, document, current_actor(), shared, now()),
        message,
        _back(dossier_id),
    )


@pages.route("/dossiers/<int:dossier_id>/documents/<int:document_id>/preview")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_preview(dossier_id: int, document_id: int):
    return inline(_document(dossier_id, document_id))


@pages.route("/dossiers/<int:dossier_id>/comments", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_comment(dossier_id: int):
    body = request.form.get("comment", "")
    about = request.form.get("action_id", "")
    action_id = int(about) if about.isdigit() else None
    try:
        with unit_of_work(db.session):
            get_dossier(db.session, dossier_id)
            comments.add_comment(db.session, current_actor(), dossier_id, action_id, body, now())
    except NotFound:
        abort(404)
    except DomainError as error:
        return _again(dossier_id, error, comment=body, action_id=action_id)
    flash(_("Commentaire ajouté."), "success")
    return redirect(_back(dossier_id) + "#thread", code=303)


def _document(dossier_id: int, document_id: int):
    try:
        return documents.dossier_document(db.session, dossier_id, document_id)
    except NotFound:
        abort(404)
