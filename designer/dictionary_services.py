"""Editing the dictionary (designer/dictionary.py): create, update and remove entries, checked, each change
kept in `dictionary_changes` (who, when, before, after).

What a published version with running dossiers uses cannot be removed nor change its type (a field's type, a
role's kind, an event's fields): the runs count on it. Relabelling is always free. The runs live in the
runtime, above this layer: callers pass `running`, the published version ids that have running dossiers, with
how many (runtime/runs.py:running_by_version)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from bpmn import expressions
from bpmn.dialect import bpmn
from bpmn.xml import parse_xml
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from .dictionary import KINDS, ROLE_KINDS, DictionaryChange, DictionaryEntry, humanize
from .models import SequenceVersion
from .values import TYPES

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEY_LIMIT, LABEL_LIMIT, HELP_LIMIT = 100, 200, 2000
KIND_NAMES = {"roles": "rôle", "fields": "champ", "events": "événement", "outcomes": "résultat"}
THE = {"roles": "le rôle", "fields": "le champ", "events": "l'événement", "outcomes": "le résultat"}
TYPE_NAMES = {
    "date": "date",
    "amount": "montant",
    "number": "nombre",
    "text": "texte",
    "choice": "choix",
    "boolean": "oui / non",
}


class InvalidEntry(RuleBroken):
    def __init__(self, field: str, message: str):
        super().__init__(message, code="invalid_entry", field=field)


class EntryExists(Conflict):
    code = "entry_exists"


class EntryInUse(Conflict):
    code = "entry_in_use"


# --- reading ----------------------------------------------------------------------------------------------


def to_dict(row: DictionaryEntry) -> dict:
    """An entry as the API and the pages show it (a role's `kind` is who holds it)."""
    data = {"key": row.key, "label": row.label, "label_en": row.label_en, "help": row.help or ""}
    if row.kind == "roles":
        data["kind"] = row.role_kind or "internal"
    elif row.kind == "fields":
        data["type"] = row.type or "text"
        data["choices"] = list(row.choices or [])
    elif row.kind == "events":
        data["fields"] = list(row.fields or [])
    return data


def list_entries(session: Session, kind: str) -> list[DictionaryEntry]:
    _check_kind(kind)
    query = select(DictionaryEntry).where(DictionaryEntry.kind == kind).order_by(DictionaryEntry.label)
    return list(session.scalars(query))


def find_entry(session: Session, kind: str, key: str) -> DictionaryEntry | None:
    return session.scalar(
        select(DictionaryEntry).where(DictionaryEntry.kind == kind, DictionaryEntry.key == key)
    )


def get_entry(session: Session, kind: str, key: str) -> DictionaryEntry:
    _check_kind(kind)
    row = find_entry(session, kind, key)
    if row is None:
        raise NotFound(f"Le dictionnaire n'a pas de {KIND_NAMES[kind]} « {key} ».", kind=kind, key=key)
    return row


def changes_of(
    session: Session, kind: str, key: str | None = None, limit: int = 200
) -> list[DictionaryChange]:
    """The changes of one entry (or of every entry of `kind`), newest first."""
    _check_kind(kind)
    query = select(DictionaryChange).where(DictionaryChange.kind == kind)
    if key is not None:
        query = query.where(DictionaryChange.key == key)
    return list(session.scalars(query.order_by(DictionaryChange.id.desc()).limit(limit)))


def change_dict(change: DictionaryChange) -> dict:
    return {
        "kind": change.kind,
        "key": change.key,
        "change": change.change,
        "before": change.before,
        "after": change.after,
        "at": change.at.isoformat(),
        "by": change.by,
    }


# --- writing ----------------------------------------------------------------------------------------------


def create_entry(
    session: Session, kind: str, data: dict, user_id: int | None, now: datetime
) -> DictionaryEntry:
    """Adds an entry; 422 naming the field when invalid, 409 when the key exists."""
    _check_kind(kind)
    clean = checked(kind, data)
    if find_entry(session, kind, clean["key"]) is not None:
        raise EntryExists(
            f"Le dictionnaire a déjà un {KIND_NAMES[kind]} « {clean['key']} ».", field="key", key=clean["key"]
        )
    row = DictionaryEntry(kind=kind, key=clean["key"], updated_at=now, updated_by=user_id)
    _apply(row, clean)
    try:
        with session.begin_nested():  # two analysts adding the same key at once: one of them is told
            session.add(row)
            session.flush()
    except IntegrityError:
        raise EntryExists(
            f"Le dictionnaire a déjà un {KIND_NAMES[kind]} « {clean['key']} ».", field="key", key=clean["key"]
        ) from None
    _record(session, kind, row.key, "created", None, to_dict(row), user_id, now)
    return row


def update_entry(
    session: Session,
    kind: str,
    key: str,
    data: dict,
    user_id: int | None,
    now: datetime,
    running: Mapping[int, int],
) -> DictionaryEntry:
    """Changes an entry's label, help and type; its key stays, and what `data` leaves out (or gives as None)
    stays as it was. Changing the type of what running dossiers use is refused (409, naming the
    sequences)."""
    row = get_entry(session, kind, key)
    given = {name: value for name, value in data.items() if value is not None}
    clean = checked(kind, {**to_dict(row), **given, "key": key})
    before = to_dict(row)
    retyped = _retyped(kind, before, clean)
    if retyped:
        _refuse_if_used(session, kind, key, running, f"changer {retyped}", label=row.label)
    _apply(row, clean)
    after = to_dict(row)
    if after != before:
        row.updated_at, row.updated_by = now, user_id
        session.flush()
        _record(session, kind, key, "updated", before, after, user_id, now)
    return row


def remove_entry(
    session: Session, kind: str, key: str, user_id: int | None, now: datetime, running: Mapping[int, int]
) -> None:
    """Removes an entry no running dossier uses (409 naming the sequences otherwise)."""
    row = get_entry(session, kind, key)
    _refuse_if_used(session, kind, key, running, "supprimer", label=row.label)
    before = to_dict(row)
    session.delete(row)
    session.flush()
    _record(session, kind, key, "removed", before, None, user_id, now)


def _record(session, kind, key, change, before, after, user_id, now) -> None:
    session.add(
        DictionaryChange(kind=kind, key=key, change=change, before=before, after=after, at=now, by=user_id)
    )
    session.flush()


def _apply(row: DictionaryEntry, clean: dict) -> None:
    row.label = clean["label"]
    row.label_en = clean["label_en"]
    row.help = clean["help"]
    row.role_kind = clean.get("kind") if row.kind == "roles" else None
    row.type = clean.get("type") if row.kind == "fields" else None
    row.choices = clean.get("choices", []) if row.kind == "fields" else []
    row.fields = clean.get("fields", []) if row.kind == "events" else []


def _retyped(kind: str, before: dict, after: dict) -> str | None:
    """What a change retypes ("type", "kind", "champs"), None for a relabelling."""
    if kind == "roles" and before["kind"] != after["kind"]:
        return "qui tient le rôle"
    if kind == "fields" and before["type"] != after["type"]:
        return "le type"
    if kind == "fields" and before["type"] == "choice":
        kept = {c["key"] for c in after["choices"]}
        if any(c["key"] not in kept for c in before["choices"]):
            return "les choix (en retirer)"
    if kind == "events":
        types = {f["key"]: f["type"] for f in after["fields"]}
        if any(types.get(f["key"]) != f["type"] for f in before["fields"]):
            return "les champs (en retirer ou en changer le type)"
    return None


# --- checking ---------------------------------------------------------------------------------------------


def checked(kind: str, data: dict, prefix: str = "") -> dict:
    """The entry's data, cleaned; InvalidEntry (422) naming the first field that is wrong."""
    if not isinstance(data, dict):
        raise Malformed("Une entrée du dictionnaire est un objet JSON.")
    key = _key(data.get("key"), prefix + "key")
    label = _text(data.get("label"), prefix + "label", LABEL_LIMIT, "Le libellé") or humanize(key)
    clean = {
        "key": key,
        "label": label,
        "label_en": _text(data.get("label_en"), prefix + "label_en", LABEL_LIMIT, "Le libellé anglais")
        or None,
        "help": _text(data.get("help"), prefix + "help", HELP_LIMIT, "L'aide") or "",
    }
    if kind == "roles":
        role_kind = data.get("kind") or "internal"
        if role_kind not in ROLE_KINDS:
            raise InvalidEntry(
                prefix + "kind",
                f"Qui tient le rôle : « {role_kind} » n'est pas internal, partner ni contact.",
            )
        clean["kind"] = role_kind
    elif kind == "fields":
        clean.update(_typed(data, prefix))
    elif kind == "events":
        fields = data.get("fields") or []
        if not isinstance(fields, list):
            raise InvalidEntry(prefix + "fields", "Les champs d'un événement sont une liste.")
        clean["fields"] = []
        for index, item in enumerate(fields):
            if not isinstance(item, dict):
                raise InvalidEntry(f"{prefix}fields[{index}]", "Un champ d'événement est un objet.")
            field = checked("fields", item, f"{prefix}fields[{index}].")
            field["required"] = bool(item.get("required"))
            if any(f["key"] == field["key"] for f in clean["fields"]):
                raise InvalidEntry(
                    f"{prefix}fields[{index}].key", f"Le champ « {field['key']} » est déjà dans l'événement."
                )
            clean["fields"].append(field)
    return clean


def _typed(data: dict, prefix: str) -> dict:
    type_ = data.get("type") or "text"
    if type_ not in TYPES:
        raise InvalidEntry(prefix + "type", f"Type « {type_} » inconnu : {', '.join(TYPES)}.")
    choices = data.get("choices") or []
    if not isinstance(choices, list):
        raise InvalidEntry(prefix + "choices", "Les choix sont une liste.")
    clean: list[dict] = []
    if type_ == "choice":
        if not choices:
            raise InvalidEntry(
                prefix + "choices", "Un champ à choix a besoin d'au moins un choix (clé = libellé)."
            )
        for index, choice in enumerate(choices):
            where = f"{prefix}choices[{index}]"
            if not isinstance(choice, dict):
                raise InvalidEntry(where, "Un choix est un objet {key, label}.")
            key = _key(choice.get("key"), where + ".key")
            if any(c["key"] == key for c in clean):
                raise InvalidEntry(where + ".key", f"Le choix « {key} » est en double.")
            clean.append(
                {
                    "key": key,
                    "label": _text(choice.get("label"), where + ".label", LABEL_LIMIT, "Le libellé")
                    or humanize(key),
                    "label_en": _text(choice.get("label_en"), where + ".label_en", LABEL_LIMIT, "Le libellé")
                    or None,
                }
            )
    return {"type": type_, "choices": clean}


def _key(value, field: str) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if not key:
        raise InvalidEntry(field, "La clé est obligatoire (lettres sans accents, chiffres et _).")
    if len(key) > KEY_LIMIT or not KEY.fullmatch(key):
        raise InvalidEntry(
            field,
            f"Clé « {key[:KEY_LIMIT]} » refusée : lettres sans accents, chiffres et _, sans espace, "
            f"commençant par une lettre, {KEY_LIMIT} caractères au plus (par exemple date_audience).",
        )
    return key


def _text(value, field: str, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidEntry(field, f"{what} est un texte.")
    text = value.strip()
    if len(text) > limit:
        raise InvalidEntry(field, f"{what} fait {len(text)} caractères, {limit} au plus.")
    return text


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"Le dictionnaire n'a pas de rubrique « {kind} » (roles, fields, events, outcomes).")


# --- what running dossiers use ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """A published version with running dossiers that uses an entry."""

    sequence: str
    version: int
    dossiers: int

    def __str__(self) -> str:
        plural = "s" if self.dossiers > 1 else ""
        return f"« {self.sequence} » (version {self.version}, {self.dossiers} dossier{plural} en cours)"


def uses_of(session: Session, kind: str, key: str, running: Mapping[int, int]) -> list[Use]:
    ids = [version_id for version_id, count in running.items() if count]
    if not ids:
        return []
    versions = session.scalars(
        select(SequenceVersion)
        .where(SequenceVersion.id.in_(ids))
        .options(undefer(SequenceVersion.model), undefer(SequenceVersion.xml))
        .order_by(SequenceVersion.name, SequenceVersion.number)
    )
    return [
        Use(version.name, version.number, running[version.id])
        for version in versions
        if key in words_of_version(version.model, version.xml)[kind]
    ]


def words_of_version(model: dict, xml: bytes | None) -> dict[str, set[str]]:
    """The dictionary keys a version uses: roles (lanes' seq:role), fields (`dossier.x` in its conditions and
    timer expressions, and the fields of its forms), events (bpmn:message names), outcomes (seq:outcomes)."""
    words: dict[str, set[str]] = {kind: set() for kind in KINDS}
    words["roles"].update((model or {}).get("roles", {}))
    for element in (model or {}).get("elements", {}).values():
        words["outcomes"].update(element.get("outcomes") or ())
        if element.get("message"):
            words["events"].add(element["message"])
        words["fields"].update(element.get("show") or (), element.get("fill") or ())  # seq:show, seq:fill
        for item in element.get("form") or ():
            name = item.get("field") or item.get("key") if isinstance(item, dict) else item
            if isinstance(name, str):
                words["fields"].add(name)
    for text in _expressions(xml):
        words["fields"].update(expressions.field_references(text))
    return words


def _expressions(xml: bytes | None) -> list[str]:
    if not xml:
        return []
    root = parse_xml(xml)
    tags = ("conditionExpression", "timeDate", "timeDuration", "timeCycle")
    return [
        (node.text or "").strip()
        for tag in tags
        for node in root.iter(bpmn(tag))
        if (node.text or "").strip()
    ]


def _refuse_if_used(session, kind: str, key: str, running: Mapping[int, int], doing: str, label: str) -> None:
    uses = uses_of(session, kind, key, running)
    if uses:
        names = ", ".join(str(use) for use in uses)
        raise EntryInUse(
            f"Impossible de {doing} : {THE[kind]} « {label} » est utilisé par {names}. Le libellé, lui, "
            "peut toujours changer.",
            kind=kind,
            key=key,
            sequences=[use.sequence for use in uses],
        )
