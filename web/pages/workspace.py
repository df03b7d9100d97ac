"""What the case managers' and partners' pages share: the actor, names for the history, labels, redirects."""

from pathlib import Path
from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask_babel import lazy_gettext as _l

from kernel.accounts import user_names
from kernel.db import unit_of_work
from kernel.errors import DomainError, NotFound

from ..extensions import db

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
    "run_retried": _l("Séquence relancée après échec"),
    "run_moved_back": _l("Retour à une étape antérieure"),
    "action_created": _l("Action créée"),
    "action_completed": _l("Action terminée"),
    "action_cancelled": _l("Action annulée"),
    "action_added": _l("Action ajoutée"),
    "role_changed": _l("Titulaires d'un rôle modifiés"),
    "event_received": _l("Événement métier"),
    "timer_scheduled": _l("Délai programmé"),
    "timer_fired": _l("Délai écoulé"),
    "communication_queued": _l("Communication préparée"),
    "communication_sent": _l("Communication envoyée"),
    "communication_failed": _l("Communication en échec"),
}

STATUS_LABELS = {
    "open": _l("à faire"),
    "done": _l("fait"),
    "validated": _l("validé"),
    "cancelled": _l("annulé"),
    "skipped": _l("sauté"),
    "failed": _l("en échec"),
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
}


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
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def attempt(work, success: str | None, back: str):
    """Runs one change; commits and says so, or rolls back and shows why. Always redirects (303)."""
    try:
        with unit_of_work(db.session):
            work()
    except NotFound:
        raise
    except DomainError as error:
        flash(error.message, "error")
        return redirect(back, code=303)
    if success:
        flash(success, "success")
    return redirect(back, code=303)
