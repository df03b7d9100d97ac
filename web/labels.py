"""Keys become labels here, once for the whole web layer: role, outcome, field and event keys as the
dictionary names them, typed field values as people write them, ISO durations in words.

The dictionary (designer/dictionary.py) is read once per request, on first use, and kept on `flask.g`;
every template reaches it through the filters and globals registered by `init_app`:

    {{ action.role|role_label }}  {{ outcome|outcome_label }}  {{ key|field_label }}  {{ name|event_label }}
    {{ dossier.data[key]|value(key) }}  {{ "P6W"|duration }}  {{ "P5D"|duration("business") }}

Routes and exports that build text in Python call the same functions. Labels are in the page's language:
the English label when the user chose English and the dictionary has one, the French one otherwise."""

from flask import g, has_request_context
from flask_babel import get_locale

from bpmn.durations import describe_duration, parse_duration
from designer.describe import describe
from designer.dictionary import Dictionary, Field, humanize, load
from designer.values import display
from runtime.dossier_view import published_choices
from runtime.roles import lane_names

from .extensions import db


def dictionary() -> Dictionary:
    """The installation's dictionary, read at most once per request."""
    if not has_request_context():
        return load(db.session)
    found = g.get("dictionary")
    if found is None:
        found = g.dictionary = load(db.session)
    return found


def lang() -> str:
    return str(get_locale() or "fr") if has_request_context() else "fr"


def role_label(key: str | None, otherwise: str | None = None) -> str:
    """The dictionary's label of the role; when the dictionary lacks it, `otherwise` or the name of its lane
    in the published versions (read once per request, only then)."""
    if key and key not in dictionary().roles:
        name = otherwise or _lane_names().get(key)
        if name:
            return name
    return dictionary().label("roles", key, lang())


def _lane_names() -> dict[str, str]:
    if not has_request_context():
        return lane_names(db.session)
    found = g.get("lane_names")
    if found is None:
        found = g.lane_names = lane_names(db.session)
    return found


def outcome_label(key: str | None) -> str:
    return dictionary().label("outcomes", key, lang())


def field_label(key: str | None) -> str:
    return dictionary().label("fields", key, lang())


def event_label(key: str | None) -> str:
    return dictionary().label("events", key, lang())


def sequence_label(key: str | None) -> str:
    """A sequence's name (its latest published version's), or its key when none is published."""
    if not key:
        return ""
    found = g.get("sequence_names") if has_request_context() else None
    if found is None:
        found = dict(published_choices(db.session))
        if has_request_context():
            g.sequence_names = found
    return found.get(key, key)


def field_of(key: str) -> Field:
    """The dictionary's field, or a text field named after its key when the dictionary does not know it."""
    return dictionary().fields.get(key) or Field(key=key, label=humanize(key), type="text")


def value(stored, key: str) -> str:
    """A stored dossier value as people read it (15/03/2027, 1 200,50 €, Oui, a choice's label)."""
    spec = dictionary().fields.get(key)
    if spec is None:
        if stored is None or stored == "":
            return "—"
        if isinstance(stored, bool):
            return ("Oui" if stored else "Non") if lang() == "fr" else ("Yes" if stored else "No")
        return str(stored)
    return display(spec, stored, lang())


def duration(iso: str | None, calendar: str = "calendar") -> str:
    """`P6W` → "6 semaines", `P5D` with "business" → "5 jours ouvrés"; anything else stays as it is."""
    if not iso:
        return ""
    try:
        parsed = parse_duration(str(iso))
    except (ValueError, TypeError):
        return str(iso)
    return describe_duration(parsed, calendar, lang())


def condition(text: str | None) -> str:
    """An expression of a sequence said in the dictionary's words (designer/describe.py)."""
    return describe(text, dictionary(), lang())


def roles_text(keys) -> str:
    return ", ".join(role_label(k) for k in keys or ())


CACHED = ("dictionary", "lane_names", "sequence_names")  # read once per request, on first use
FILTERS = {
    "role_label": role_label,
    "outcome_label": outcome_label,
    "field_label": field_label,
    "event_label": event_label,
    "value": value,
    "duration": duration,
    "roles_text": roles_text,
    "sequence_label": sequence_label,
    "condition": condition,
}


def init_app(app) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(FILTERS)
    # A request's dictionary is never another's, even where requests share an app context (tests).
    app.teardown_request(lambda _error: [g.pop(k, None) for k in CACHED])
