"""What the case managers' and partners' pages share: the actor, names for the history, labels, redirects."""

from pathlib import Path
from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape

from kernel.accounts import user_names
from kernel.db import unit_of_work
from kernel.errors import DomainError, NotFound
from runtime import incidents
from runtime.models import RunStatus
from runtime.runs import get_run

from ..extensions import db
from ..labels import condition, field_label

DIST = Path(__file__).resolve().parent.parent / "static" / "dist"

KIND_LABELS = {
    "dossier_created": _l("Dossier créé"),
    "dossier_updated": _l("Dossier modifié"),
    "participant_added": _l("Intervenant ajouté"),
    "participant_updated": _l("Rôles d'un intervenant modifiés"),
    "run_launched": _l("Séquence lancée"),
    "run_completed": _l("Séquence terminée"),
    "run_interrupted": _l("Séquence interrompue"),
    "run_switched": _l("Changement de séquence"),
    "run_failed": _l("Séquence en échec"),
    "run_waiting_data": _l("Séquence en attente d'une donnée"),
    "run_retried": _l("Séquence relancée après échec"),
    "run_moved_back": _l("Retour à une étape antérieure"),
    "run_migrated": _l("Changement de version de la séquence"),
    "timer_rescheduled": _l("Délai recalculé"),
    "action_created": _l("Action créée"),
    "action_completed": _l("Action terminée"),
    "action_cancelled": _l("Action annulée"),
    "action_added": _l("Action ajoutée"),
    "role_changed": _l("Titulaires d'un rôle modifiés"),
    "holders_reassigned": _l("Actions confiées"),
    "event_received": _l("Événement métier"),
    "timer_scheduled": _l("Délai programmé"),
    "timer_fired": _l("Délai écoulé"),
    "communication_queued": _l("Communication préparée"),
    "communication_sent": _l("Communication envoyée"),
    "communication_failed": _l("Communication en échec"),
    "comment_added": _l("Commentaire"),
    "document_added": _l("Document ajouté"),
    "document_shared": _l("Document partagé avec les partenaires"),
    "document_unshared": _l("Document retiré du partage"),
}

STATUS_LABELS = {
    "open": _l("à faire"),
    "done": _l("fait"),
    "validated": _l("validé"),
    "cancelled": _l("annulé"),
    "skipped": _l("sauté"),
    "failed": _l("en échec"),
    "waiting_data": _l("attend une donnée"),
    "running": _l("en cours"),
    "completed": _l("terminée"),
    "interrupted": _l("interrompue"),
    "switched": _l("remplacée"),
}

PARTICIPANT_KINDS = {"internal": _l("interne"), "partner": _l("partenaire"), "contact": _l("contact")}

CAUSES = {
    "timer": _l("délai"),
    "event": _l("événement"),
    "sequence": _l("séquence"),
    "worker": _l("automate"),
    "interruption": _l("interruption"),
    "switch": _l("changement de séquence"),
    "data": _l("donnée attendue"),
}


SHORT = 300  # characters of a long value shown before « afficher tout »


def long_text(value, limit: int = SHORT) -> Markup:
    """A value of any length, shown so that it never overflows its page: past `limit` characters, its start
    with « afficher tout », which unfolds the whole (no script needed)."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        # The short case is every row of a list: escaped directly (Markup.format's formatter costs far more).
        return Markup(f'<span class="value">{escape(text)}</span>')
    return Markup(
        '<details class="long value"><summary><span class="start">{start}…</span> '
        '<span class="more">{more}</span><span class="less">{less}</span></summary>'
        '<div class="whole">{whole}</div></details>'
    ).format(
        start=text[:limit],
        more=_("afficher tout (%(n)d caractères)", n=len(text)),
        less=_("réduire"),
        whole=text,
    )


def bundle_built(name: str = "run-viewer") -> bool:
    return (DIST / f"{name}.js").is_file()


def actor_names(labels: set[str]) -> dict[str, str]:
    """ "user:12" → the user's name, "system:timer" → "Système (délai)": one query for all users."""
    ids = {
        int(label.split(":", 1)[1])
        for label in labels
        if label and label.startswith("user:") and label.split(":", 1)[1].isdigit()
    }
    users = user_names(db.session, ids)
    names = {}
    for label in labels:
        if not label:
            continue
        who, _sep, rest = label.partition(":")
        if who == "user" and rest.isdigit():
            names[label] = users.get(int(rest), label)
        elif who == "system":
            names[label] = f"{_l('Système')} ({CAUSES.get(rest, rest)})"
        else:
            names[label] = label
    return names


def local_target(default: str) -> str:
    """A form's `next` field when it is a path of this site, else `default`."""
    target = request.form.get("next") or request.args.get("next") or ""
    parts = urlsplit(target)
    # Browsers read "/\host" as "//host": a backslash or a control character is never a local path.
    if any(c == "\\" or c < " " for c in target):
        return default
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def attempt(work, success: str | None, back: str, watch: int | None = None, run_id: int | None = None):
    """Runs one change; commits and says so, or rolls back and shows why. Always redirects (303).

    A text `work` returns is a note, said after the success (any other result is ignored). With `watch` (a
    dossier id), a change that left one of the dossier's runs failed is kept (nothing is lost) but said as
    an error, with its cause: never as a success. With `run_id`, a change that left that run failed as it
    was (an action added, holders changed) is said as a warning that the run still waits for its repair."""
    mark = incidents.journal_mark(db.session, watch) if watch is not None else None
    try:
        with unit_of_work(db.session):
            note = work()
            failed = incidents.failed_since(db.session, watch, mark) if watch is not None else []
            messages = [failure_message(run) for run in failed]
            still = (
                run_id is not None and not failed and get_run(db.session, run_id).status == RunStatus.FAILED
            )
    except NotFound:
        raise
    except DomainError as error:
        flash(error.message, "error")
        return redirect(back, code=303)
    for message in messages:
        flash(message, "error")
    if still:
        waiting = _("Le déroulement reste en échec : corrigez la cause puis relancez-le.")
        flash(f"{success} {waiting}", "warning")
    elif not failed:
        if success:
            flash(success, "success")
        if isinstance(note, str):
            flash(note, "info")
    return redirect(back, code=303)


# ---- incidents: what made a run fail, in words


OPERATIONS = {
    "start": _l("au lancement"),
    "complete": _l("après une action terminée"),
    "timer": _l("à l’échéance d’un délai"),
    "event": _l("à la réception d’un événement"),
    "restore": _l("au retour à une étape"),
}


def _shown(value) -> str:
    return "—" if value is None else str(value)


def cause_sentence(cause: incidents.Cause) -> str:
    """The cause of a failure, said to a case manager."""
    keys = ", ".join(f"« {field_label(key)} »" for key, _value in cause.fields)
    if cause.kind == "field_missing":
        return ngettext(
            "La donnée %(keys)s manque au dossier : la règle « %(expression)s » en a besoin.",
            "Les données %(keys)s manquent au dossier : la règle « %(expression)s » en a besoin.",
            len(cause.fields),
            keys=keys,
            expression=condition(cause.expression),
        )
    if cause.kind == "field_value":
        values = ", ".join(f"« {field_label(key)} » = « {_shown(value)} »" for key, value in cause.fields)
        if cause.expected == "number":
            return _(
                "La donnée du dossier %(values)s n’est pas un nombre : la règle « %(expression)s » attend un "
                "nombre.",
                expression=condition(cause.expression),
                values=values,
            )
        if cause.expected == "date":
            return _(
                "La donnée du dossier %(values)s n’est pas une date : la règle « %(expression)s » attend une "
                "date.",
                expression=condition(cause.expression),
                values=values,
            )
        return _(
            "La règle « %(expression)s » ne peut pas utiliser la valeur de la donnée du dossier %(values)s.",
            expression=condition(cause.expression),
            values=values,
        )
    if cause.kind == "expression":
        return _(
            "La règle « %(expression)s » de la séquence n’a pas pu être calculée : %(reason)s.",
            expression=condition(cause.expression),
            reason=cause.reason or "?",
        )
    return _("Le déroulement s’est arrêté sur une erreur inattendue du moteur.")


def cause_advice(cause: incidents.Cause) -> str:
    """What to do about it."""
    if cause.kind in ("field_missing", "field_value"):
        return _("Corrigez la donnée dans l’onglet Données : le déroulement reprend de lui-même.")
    if cause.kind == "expression":
        return _(
            "Corrigez les données du dossier puis relancez, ou revenez à une étape ; si la règle elle-même "
            "est fausse, prévenez l’analyste qui a dessiné la séquence."
        )
    return _(
        "Relancez le déroulement ; si l’échec se répète, revenez à une étape ou prévenez un administrateur."
    )


def failure_message(run) -> str:
    cause = incidents.cause_of(run.error, run.dossier.data)
    return _(
        "La séquence « %(name)s » est en échec : %(cause)s %(advice)s",
        name=run.version.name,
        cause=cause_sentence(cause),
        advice=cause_advice(cause),
    )
