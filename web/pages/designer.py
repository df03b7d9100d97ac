"""The designer's pages: the sequence library, the modeler (bpmn-js), published versions, diffs, files.

The diagram itself is drawn in the browser (web/static/src/modeler); these pages carry the XML and the
labels, and everything else (lists, versions, comparisons, uploads) is rendered here."""

import base64
import binascii
import hashlib
import re
from pathlib import Path

import flask_babel
from flask import Response, current_app, flash, redirect, request, url_for
from flask import render_template as _render
from flask_babel import Domain
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from designer import drafts, services
from designer.dictionary import load as load_dictionary
from designer.diff_words import compare
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed

from ..clock import now
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed

DIST = Path(__file__).resolve().parent.parent / "static" / "dist"
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# The designer's strings have their own catalog (web/translations/<lang>/LC_MESSAGES/designer.po), so that
# areas of the app can be translated independently; anything it lacks comes from the app's catalog.
CATALOG = Domain(translation_directories=[str(Path(__file__).resolve().parent.parent / "translations")],
                 domain="designer")


def _(text: str, **variables) -> str:
    if CATALOG.get_translations().gettext(text) != text:
        return CATALOG.gettext(text, **variables)
    return flask_babel.gettext(text, **variables)


def _l(text: str) -> LazyString:
    return LazyString(_, text)


def render_template(template: str, /, **context) -> str:
    return _render(template, _=_, **context)


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier BPMN (.bpmn, .xml)"), validators=[FileRequired()])


@pages.after_request
def remember_language(response: Response) -> Response:
    # ?lang=en once keeps the page in English on the next ones.
    chosen = request.args.get("lang")
    if chosen in ("fr", "en"):
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def bundle_built() -> bool:
    return (DIST / "modeler.js").is_file()


class ReplaceForm(FlaskForm):
    """The confirmation step of an import over an existing draft: the file travels back with it."""

    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField()


@pages.route("/designer/")
@page_allowed(Perm.SEQUENCES_READ)
def designer_library():
    return _library()


def _library(status: int = 200, **context):
    """The library; `taken` (a new key that exists, with what was typed) and `replacing` (an import waiting
    for confirmation) show the refusal or the question above the list."""
    sequences = services.list_sequences(db.session)
    can_write = allows(current_user.account, Perm.SEQUENCES_WRITE)
    return render_template("designer/library.html", sequences=sequences, can_write=can_write,
                           form=UploadForm(), typed=request.args, **context), status


@pages.route("/designer/new")
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_new():
    key = slug(request.args.get("key") or "") or "nouvelle_sequence"
    name = (request.args.get("name") or "").strip() or _("Nouvelle séquence")
    existing = services.find_sequence(db.session, key)
    if existing is not None:
        return _library(409, taken=existing)
    return _modeler(mode="new", key=key, name=name, xml=None)


@pages.route("/designer/sequences/<key>/edit")
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_edit(key: str):
    sequence = services.get_sequence(db.session, key)
    data = sequence.draft_xml if sequence.draft_xml is not None else (
        sequence.latest.xml if sequence.latest else None)
    return _modeler(mode="edit", key=key, name=sequence.name, xml=_text(data) if data else None,
                    sequence=sequence)


def _modeler(mode: str, key: str, name: str, xml: str | None, sequence=None):
    return render_template("designer/modeler.html", mode=mode, key=key, name=name, xml=xml,
                           labels=js_labels(), bundle_built=bundle_built(), state=_draft_state(sequence),
                           autosave_ms=_autosave_ms(), words=_words())


def _autosave_ms() -> int:
    """How long after the last change the editor saves the draft by itself (DESIGNER_AUTOSAVE_SECONDS)."""
    return int(float(current_app.config["DESIGNER_AUTOSAVE_SECONDS"]) * 1000)


def _draft_state(sequence) -> dict:
    """What the top of the editor says: when the draft was last saved, the published version, and whether
    the draft is that version unchanged."""
    if sequence is None:
        return {"updated_at": "", "version": "", "same": False}
    latest = sequence.latest
    same = bool(latest and sequence.draft_xml is not None
                and hashlib.sha256(sequence.draft_xml).hexdigest() == latest.checksum)
    return {
        "updated_at": sequence.draft_updated_at.isoformat() if sequence.draft_updated_at else "",
        "version": latest.number if latest else "",
        "same": same or (latest is not None and sequence.draft_xml is None),
    }


def _words() -> dict:
    """The dictionary as the "Séquence" panel offers it: roles for lanes, fields for forms and conditions,
    outcomes, events; labels in the page's language."""
    words = load_dictionary(db.session)
    lang = str(flask_babel.get_locale() or "fr")

    def label(entry) -> str:
        return (entry.label_en or entry.label) if lang == "en" else entry.label

    def field(entry) -> dict:
        choices = [{"key": c.key, "label": (c.label_en or c.label) if lang == "en" else c.label}
                   for c in entry.choices]
        return {"key": entry.key, "label": label(entry), "type": entry.type, "choices": choices}

    return {
        "roles": [{"key": r.key, "label": label(r), "kind": r.kind} for r in words.roles.values()],
        "fields": [field(f) for f in words.fields.values()],
        "outcomes": [{"key": o.key, "label": label(o)} for o in words.outcomes.values()],
        "events": [{"key": e.key, "label": label(e), "fields": [field(f) for f in e.fields]}
                   for e in words.events.values()],
    }


@pages.route("/designer/sequences/<key>/versions/<int:number>")
@page_allowed(Perm.SEQUENCES_READ)
def designer_version(key: str, number: int):
    sequence = services.get_sequence(db.session, key)
    version = services.get_version(db.session, key, number)
    note = services.release_notes(db.session, [version.id]).get(version.id)
    return render_template("designer/version.html", sequence=sequence, version=version, note=note,
                           xml=_text(version.xml), bundle_built=bundle_built(),
                           can_write=allows(current_user.account, Perm.SEQUENCES_WRITE))


@pages.route("/designer/sequences/<key>/versions/<int:number>/download")
@page_allowed(Perm.SEQUENCES_READ)
def designer_download_version(key: str, number: int):
    version = services.get_version(db.session, key, number)
    return _attachment(version.xml, f"{key}-v{number}.bpmn")


@pages.route("/designer/sequences/<key>/draft/download")
@page_allowed(Perm.SEQUENCES_READ)
def designer_download_draft(key: str):
    sequence = services.get_sequence(db.session, key)
    if sequence.draft_xml is None:
        raise services.NotFound(_("La séquence « %(key)s » n'a pas de brouillon.", key=key))
    return _attachment(sequence.draft_xml, f"{key}-brouillon.bpmn")


def _attachment(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@pages.route("/designer/sequences/<key>/diff")
@page_allowed(Perm.SEQUENCES_READ)
def designer_diff(key: str):
    """?from=1&to=2; `to` may be `draft`."""
    sequence = services.get_sequence(db.session, key)
    numbers = [v.number for v in sequence.versions]
    choices = [str(n) for n in numbers] + (["draft"] if sequence.draft_xml is not None else [])
    if not choices:
        raise services.NotFound(_("La séquence « %(key)s » n'a ni version ni brouillon.", key=key))
    default_from = str(numbers[-2]) if len(numbers) > 1 else choices[0]
    default_to = "draft" if sequence.draft_xml is not None else choices[-1]
    chosen_from = request.args.get("from") or default_from
    chosen_to = request.args.get("to") or default_to
    if chosen_from not in choices or chosen_to not in choices:
        raise Malformed(_("Choisissez deux versions parmi : %(choices)s.", choices=", ".join(choices)))
    before, after = _xml_of(sequence, chosen_from), _xml_of(sequence, chosen_to)
    result, sentences = compare(before, after, str(flask_babel.get_locale() or "fr"))
    # the two diagrams, coloured: removed and changed on the earlier one, added and changed on the later one
    marks_from = {s.element_id: f"seq-diff-{s.change}" for s in sentences if s.change != "added"}
    marks_to = {s.element_id: f"seq-diff-{s.change}" for s in sentences if s.change != "removed"}
    return render_template("designer/diff.html", sequence=sequence, diff=result, choices=choices,
                           chosen_from=chosen_from, chosen_to=chosen_to, sentences=sentences,
                           xml_from=_text(before), xml_to=_text(after), marks_from=marks_from,
                           marks_to=marks_to, bundle_built=bundle_built())


def _xml_of(sequence, which: str) -> bytes:
    if which == "draft":
        return sequence.draft_xml
    return next(v.xml for v in sequence.versions if str(v.number) == which)


@pages.route("/designer/upload", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_upload():
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choisissez un fichier BPMN à importer."), "error")
        return redirect(url_for("pages.designer_library"))
    return _import(form.file.data.read(), form.file.data.filename, replace=False)


@pages.route("/designer/upload/replace", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_upload_replace():
    """The analyst confirmed that the imported file replaces the existing draft."""
    form = ReplaceForm()
    try:
        data = base64.b64decode(form.content.data or "", validate=True) if form.validate_on_submit() else b""
    except binascii.Error:
        data = b""
    if not data:
        flash(_("Choisissez un fichier BPMN à importer."), "error")
        return redirect(url_for("pages.designer_library"))
    return _import(data, form.filename.data, replace=True)


def _import(data: bytes, filename: str, replace: bool):
    try:
        with unit_of_work(db.session):
            sequence, _created, report = services.save_draft(
                db.session, data, current_user.account.id, now(), replace=replace)
    except services.SequenceExists as error:
        confirm = ReplaceForm(content=base64.b64encode(data).decode("ascii"), filename=filename)
        return _library(409, replacing=error.details, confirm=confirm, filename=filename)
    except DomainError as error:
        flash(_("Le fichier « %(name)s » n'a pas été importé : %(why)s", name=filename,
                why=error.message), "error")
        return redirect(url_for("pages.designer_library"))
    count = len(report.issues)
    if count:
        flash(_("Brouillon « %(key)s » enregistré avec %(n)d problème(s) à corriger.", key=sequence.key,
                n=count), "error")
    else:
        flash(_("Brouillon « %(key)s » enregistré, prêt à publier.", key=sequence.key), "success")
    return redirect(url_for("pages.designer_edit", key=sequence.key))


@pages.route("/designer/sequences/<key>/drafts")
@page_allowed(Perm.SEQUENCES_READ)
def designer_drafts(key: str):
    sequence = services.get_sequence(db.session, key)
    return render_template("designer/drafts.html", sequence=sequence, days=drafts.SHOWN_DAYS,
                           drafts=drafts.list_drafts(db.session, sequence, now()),
                           can_write=allows(current_user.account, Perm.SEQUENCES_WRITE))


@pages.route("/designer/sequences/<key>/drafts/<int:draft_id>/restore", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_restore_draft(key: str, draft_id: int):
    with unit_of_work(db.session):
        sequence = services.restore_draft(db.session, key, draft_id, current_user.account.id, now())
    flash(_("Brouillon restauré : c'est maintenant le brouillon actuel de « %(name)s ».", name=sequence.name),
          "success")
    return redirect(url_for("pages.designer_drafts", key=key), code=303)


@pages.route("/designer/sequences/<key>/archive", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_archive(key: str):
    with unit_of_work(db.session):
        sequence = services.archive_sequence(db.session, key, current_user.account.id, now())
    flash(_("« %(name)s » est archivée : elle n'est plus proposée au lancement.", name=sequence.name),
          "success")
    return redirect(url_for("pages.designer_library"), code=303)


@pages.route("/designer/sequences/<key>/unarchive", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_unarchive(key: str):
    with unit_of_work(db.session):
        sequence = services.unarchive_sequence(db.session, key)
    flash(_("« %(name)s » est de nouveau proposée au lancement.", name=sequence.name), "success")
    return redirect(url_for("pages.designer_library"), code=303)


@pages.route("/designer/sequences/<key>/delete", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def designer_delete(key: str):
    name = services.get_sequence(db.session, key).name
    with unit_of_work(db.session):
        services.delete_sequence(db.session, key)
    flash(_("« %(name)s » et ses brouillons sont supprimés.", name=name), "success")
    return redirect(url_for("pages.designer_library"), code=303)


def slug(text: str) -> str:
    """A process id usable as a sequence key: letters, digits, _ . - and not starting with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", text.strip().lower()).strip("_")
    if cleaned and not KEY.match(cleaned):
        cleaned = f"s_{cleaned}"
    return cleaned


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def js_labels() -> dict:
    """The sentences the modeler script shows, in the page's language."""
    return {
        "problems": _("{n} problème(s) à corriger"),
        "noProblem": _("Aucun problème détecté."),
        "wholeFile": _("Fichier entier"),
        "unsaved": _("Des modifications ne sont pas enregistrées."),
        "saving": _("Enregistrement…"),
        "saved": _("Brouillon enregistré."),
        "savedWithProblems": _("Brouillon enregistré, avec {n} problème(s) à corriger avant publication."),
        "exists": _("La séquence « {name} » a déjà la clé « {key} » : rien n'a été remplacé. Changez la clé "
                    "du processus, ou"),
        "openExisting": _("ouvrez la séquence existante"),
        "saveFailed": _("Échec de l'enregistrement, le diagramme reste affiché : {message}"),
        "validationFailed": _("La vérification a échoué : {message}"),
        "published": _("Version {version} publiée."),
        "publishRefused": _("Publication refusée : {n} problème(s). {message}"),
        "importWarnings": _("{n} avertissement(s) à l'ouverture :"),
        "replaceConfirm": _("Remplacer le diagramme affiché (non enregistré) par ce fichier ?"),
        "fileOpened": _("Fichier « {name} » ouvert : enregistrez-le pour en faire un brouillon."),
        "newName": _("Nouvelle séquence"),
        "laneName": _("Gestionnaire"),
        "simulating": _("Simulation en cours…"),
        "ended": _("Séquence terminée (fin : {ends})."),
        "endedPlain": _("Séquence terminée."),
        "status": _("Statut"),
        "outcome": _("Résultat"),
        "complete": _("Terminer l'action"),
        "fire": _("Déclencher le délai"),
        "send": _("Recevoir l'événement « {name} »"),
        "undo": _("Annuler la dernière étape"),
        "autosaving": _("Enregistrement automatique…"),
        "autosaved": _("Brouillon enregistré automatiquement."),
        "draftNew": _("Nouveau brouillon, pas encore enregistré"),
        "draftChanged": _("Brouillon modifié {when}"),
        "draftWhen": _("le {day} à {time}"),
        "draftSame": _("Brouillon identique à la version publiée {n}"),
        "publishedVersion": _("version publiée : {n}"),
        "neverPublished": _("jamais publiée"),
        "unsavedChanges": _("modifications non enregistrées"),
        "publishTitle": _("Publier la version {version} ?"),
        "impactNone": _("Aucun dossier en cours sur une version antérieure."),
        "impactSome": _("{n} dossier(s) en cours sur des versions antérieures ({versions}) : ils continuent "
                        "sur leur version ; les nouveaux lancements prendront la version {next}."),
        "impactVersion": _("v{version} : {n}"),
        "migrateFrom": _("Migrer les {n} dossier(s) de la version {version}"),
        "publishCancelled": _("Publication annulée : rien n'a été publié."),
        "types": {"task": _("Tâche"), "reminder": _("Relance"), "validation": _("Validation"),
                  "communication": _("Communication")},
        "statuses": {"done": _("fait"), "validated": _("validé"), "cancelled": _("annulé"),
                     "skipped": _("sauté"), "failed": _("en échec")},
    }
