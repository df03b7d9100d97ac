"""The dictionary: the words of the installation's procedures, defined once by analysts and used by every
screen, message, form and check.

Four kinds of entries, each with a key (what diagrams and expressions name) and a label (what people read):
- roles: `seq:role` of lanes, with the kind of participant who holds them;
- fields: the dossier's data (`dossier.x`), typed (designer/values.py);
- events: business events (`bpmn:message` names), with the typed fields they carry (`event.x`);
- outcomes: the business outcomes of actions (`seq:outcomes`).

Every change is kept in `dictionary_changes` (who, when, before, after)."""

import difflib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base

from .values import Choice, FieldType

KINDS = ("roles", "fields", "events", "outcomes")
ROLE_KINDS = ("internal", "partner", "contact")


class DictionaryEntry(Base):
    __tablename__ = "dictionary_entries"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))
    # Roles: who holds it (internal, partner, contact).
    role_kind: Mapped[str | None] = mapped_column(String(10))
    # Fields: their type and, for a choice, the options [{key, label, label_en}].
    type: Mapped[str | None] = mapped_column(String(10))
    choices: Mapped[list] = mapped_column(JSON, default=list)
    # Events: the fields they carry [{key, label, label_en, type, choices, required}].
    fields: Mapped[list] = mapped_column(JSON, default=list)
    help: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DictionaryChange(Base):
    """One change of one entry, never updated."""

    __tablename__ = "dictionary_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    key: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(10))  # created, updated, removed
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime]
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


@dataclass(frozen=True)
class Role:
    key: str
    label: str
    label_en: str | None
    kind: str
    help: str = ""


@dataclass(frozen=True)
class Field(FieldType):
    label_en: str | None = None
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class Event:
    key: str
    label: str
    label_en: str | None
    fields: tuple[Field, ...] = field(default=())
    help: str = ""


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    label_en: str | None
    help: str = ""


def _choices(rows: list) -> tuple[Choice, ...]:
    return tuple(Choice(c["key"], c.get("label") or c["key"], c.get("label_en")) for c in rows or ())


def field_of(data: dict) -> Field:
    """A Field from its JSON form (an event's field, or an entry's)."""
    return Field(
        key=data["key"],
        label=data.get("label") or humanize(data["key"]),
        type=data.get("type") or "text",
        choices=_choices(data.get("choices")),
        label_en=data.get("label_en"),
        help=data.get("help") or "",
        required=bool(data.get("required")),
    )


def entry_of(row: DictionaryEntry):
    if row.kind == "roles":
        return Role(row.key, row.label, row.label_en, row.role_kind or "internal", row.help or "")
    if row.kind == "fields":
        return Field(
            key=row.key,
            label=row.label,
            type=row.type or "text",
            choices=_choices(row.choices),
            label_en=row.label_en,
            help=row.help or "",
        )
    if row.kind == "events":
        return Event(
            row.key, row.label, row.label_en, tuple(field_of(f) for f in row.fields or ()), row.help or ""
        )
    return Outcome(row.key, row.label, row.label_en, row.help or "")


@dataclass
class Dictionary:
    """The whole dictionary, read at once (a few hundred rows at most)."""

    roles: dict[str, Role] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def of(self, kind: str) -> dict:
        return getattr(self, kind)

    def label(self, kind: str, key: str | None, lang: str = "fr") -> str:
        """What people read for `key`: its label in `lang` (French when no English one), or the key made
        readable when the dictionary does not know it yet."""
        if not key:
            return ""
        entry = self.of(kind).get(key)
        if entry is None:
            return humanize(key)
        return (entry.label_en or entry.label) if lang == "en" else entry.label

    def closest(self, kind: str, key: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(key, list(self.of(kind)), n=n, cutoff=0.6)


def load(session: Session) -> Dictionary:
    dictionary = Dictionary()
    for row in session.scalars(select(DictionaryEntry).order_by(DictionaryEntry.kind, DictionaryEntry.key)):
        if row.kind in KINDS:
            dictionary.of(row.kind)[row.key] = entry_of(row)
    return dictionary


def humanize(key: str) -> str:
    """`commissaire_justice` → "Commissaire justice": never shown when the dictionary has the entry."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
