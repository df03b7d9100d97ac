"""The dictionary page: analysts define the words of their procedures (roles, dossier fields, business
events, outcomes); managers read them. Forms are read here, the rules are the service's
(designer/dictionary_services.py); a refused form is shown again with what was typed and why."""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from designer import dictionary_services as service
from kernel.accounts import user_names
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed
from runtime.runs import running_by_version

from ..clock import now
from ..errors import status_of
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed

TABS = {
    "roles": _l("Rôles"),
    "fields": _l("Champs du dossier"),
    "events": _l("Événements métier"),
    "outcomes": _l("Résultats"),
}
TYPE_LABELS = {
    "date": _l("Date"),
    "amount": _l("Montant (€)"),
    "number": _l("Nombre"),
    "text": _l("Texte"),
    "choice": _l("Choix"),
    "boolean": _l("Oui / non"),
}
ROLE_KIND_LABELS = {"internal": _l("Interne"), "partner": _l("Partenaire"), "contact": _l("Contact")}
CHANGE_LABELS = {"created": _l("Ajout"), "updated": _l("Modification"), "removed": _l("Suppression")}
# An event field typed on one line: `montant = Montant reçu (montant)`; the type in French or as its key.
TYPE_WORDS = {
    **{key: key for key in TYPE_LABELS},
    "montant": "amount",
    "nombre": "number",
    "texte": "text",
    "choix": "choice",
    "oui/non": "boolean",
    "booléen": "boolean",
}
LINE = re.compile(r"^\s*([^=()]+?)\s*(?:=\s*(.*?))?\s*(?:\(\s*([^()]+?)\s*\))?\s*$")


@pages.route("/dictionary/")
@page_allowed(Perm.SEQUENCES_READ)
def dictionary_page():
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "roles"
    editing = None
    if request.args.get("edit") and allows(current_user.account, Perm.SEQUENCES_WRITE):
        row = service.find_entry(db.session, tab, request.args["edit"])
        editing = _form_of(tab, service.to_dict(row)) if row is not None else None
    return _render(tab, form=editing or _form_of(tab, None), editing=editing is not None)


@pages.route("/dictionary/save", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def dictionary_save():
    tab = request.form.get("kind") if request.form.get("kind") in TABS else "roles"
    original = request.form.get("original") or None
    form = {name: request.form.get(name, "") for name in _FORM_NAMES}
    try:
        data = _data_of(tab, form)
        with unit_of_work(db.session):
            if original:
                row = service.update_entry(
                    db.session,
                    tab,
                    original,
                    data,
                    current_user.account.id,
                    now(),
                    running_by_version(db.session),
                )
            else:
                row = service.create_entry(db.session, tab, data, current_user.account.id, now())
            label = row.label
    except DomainError as error:
        return _render(tab, form=form, editing=bool(original), error=error), status_of(error)
    flash(_("« %(label)s » est enregistré.", label=label), "success")
    return redirect(url_for("pages.dictionary_page", tab=tab), code=303)


@pages.route("/dictionary/remove", methods=["POST"])
@page_allowed(Perm.SEQUENCES_WRITE)
def dictionary_remove():
    tab = request.form.get("kind") if request.form.get("kind") in TABS else "roles"
    key = request.form.get("key", "")
    try:
        with unit_of_work(db.session):
            service.remove_entry(
                db.session, tab, key, current_user.account.id, now(), running_by_version(db.session)
            )
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("« %(key)s » est retiré du dictionnaire.", key=key), "success")
    return redirect(url_for("pages.dictionary_page", tab=tab), code=303)


_FORM_NAMES = ("key", "label", "label_en", "help", "role_kind", "type", "choices", "fields", "original")


def _render(tab: str, form: dict, editing: bool, error: DomainError | None = None):
    rows = [service.to_dict(row) for row in service.list_entries(db.session, tab)]
    changes = service.changes_of(db.session, tab, limit=50)
    names = user_names(db.session, {c.by for c in changes if c.by is not None})
    history = [
        {
            "at": c.at,
            "who": names.get(c.by) or _("installation"),
            "change": CHANGE_LABELS[c.change],
            "key": c.key,
            "label": (c.after or c.before or {}).get("label") or c.key,
            "summary": _summary(c.before, c.after),
        }
        for c in changes
    ]
    return render_template(
        "dictionary/page.html",
        tab=tab,
        tabs=TABS,
        rows=rows,
        history=history,
        form=form,
        editing=editing,
        error=error,
        error_field=(error.details.get("field") or "").split("[")[0].split(".")[0] if error else None,
        can_write=allows(current_user.account, Perm.SEQUENCES_WRITE),
        type_labels=TYPE_LABELS,
        role_kinds=ROLE_KIND_LABELS,
        field_lines=_field_lines,
        choice_lines=_choice_lines,
    )


# --- the form's text ⇄ the service's data -----------------------------------------------------------------


def _form_of(tab: str, entry: dict | None) -> dict:
    entry = entry or {}
    return {
        "key": entry.get("key", ""),
        "label": entry.get("label", ""),
        "label_en": entry.get("label_en") or "",
        "help": entry.get("help", ""),
        "role_kind": entry.get("kind", "internal"),
        "type": entry.get("type", "text"),
        "choices": _choice_lines(entry.get("choices") or []),
        "fields": _field_lines(entry.get("fields") or []),
        "original": entry.get("key", ""),
    }


def _data_of(tab: str, form: dict) -> dict:
    data = {
        "key": form["original"] or form["key"],
        "label": form["label"],
        "label_en": form["label_en"],
        "help": form["help"],
    }
    if tab == "roles":
        data["kind"] = form["role_kind"]
    elif tab == "fields":
        data["type"] = form["type"]
        data["choices"] = _parse_choices(form["choices"]) if form["type"] == "choice" else []
    elif tab == "events":
        data["fields"] = _parse_fields(form["fields"])
    return data


def _choice_lines(choices: list) -> str:
    return "\n".join(f"{c['key']} = {c['label']}" for c in choices)


def _field_lines(fields: list) -> str:
    words = {
        value: word
        for word, value in TYPE_WORDS.items()
        if word in ("date", "montant", "nombre", "texte", "choix", "oui/non")
    }
    return "\n".join(f"{f['key']} = {f['label']} ({words.get(f.get('type'), 'texte')})" for f in fields)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _parse_choices(text: str) -> list[dict]:
    choices = []
    for number, line in _lines(text):
        key, _sep, label = line.partition("=")
        if not key.strip():
            raise Malformed(
                _("Ligne %(n)d des choix : écrivez « clé = libellé ».", n=number), field="choices"
            )
        choices.append({"key": key.strip(), "label": label.strip() or None})
    return choices


def _parse_fields(text: str) -> list[dict]:
    fields = []
    for number, line in _lines(text):
        match = LINE.match(line)
        type_word = (match.group(3) or "texte").casefold() if match else ""
        if match is None or type_word not in TYPE_WORDS:
            raise Malformed(
                _(
                    "Ligne %(n)d des champs : écrivez « clé = libellé (type) », le type parmi date, montant, "
                    "nombre, texte, oui/non.",
                    n=number,
                ),
                field="fields",
            )
        fields.append({"key": match.group(1), "label": match.group(2) or None, "type": TYPE_WORDS[type_word]})
    return fields


def _summary(before: dict | None, after: dict | None) -> str:
    """What a change changed, in words: "Libellé : Solde → Solde dû ; Type : Texte → Montant (€)"."""
    if before is None or after is None:
        return ""
    parts = []
    shown = {
        "label": _("Libellé"),
        "label_en": _("Libellé anglais"),
        "kind": _("Tenu par"),
        "type": _("Type"),
        "help": _("Aide"),
    }
    for name, title in shown.items():
        if before.get(name) != after.get(name):
            old, new = before.get(name), after.get(name)
            if name == "type":
                old, new = TYPE_LABELS.get(old, old), TYPE_LABELS.get(new, new)
            if name == "kind":
                old, new = ROLE_KIND_LABELS.get(old, old), ROLE_KIND_LABELS.get(new, new)
            parts.append(f"{title} : {old or '—'} → {new or '—'}")
    if before.get("choices") != after.get("choices"):
        parts.append(
            _("Choix : %(choices)s", choices=", ".join(c["label"] for c in after.get("choices") or []))
        )
    if before.get("fields") != after.get("fields"):
        parts.append(
            _("Champs : %(fields)s", fields=", ".join(f["label"] for f in after.get("fields") or []))
        )
    return " ; ".join(parts)
