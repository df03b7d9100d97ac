"""dictionary: roles, dossier fields, business events and outcomes with their labels, and every change

Revision ID: 3c9d2e8f1a6b
Revises: 5d1e7a9c4b20
Create Date: 2026-12-06 06:45:00

"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from lxml import etree

import kernel.db

revision = "3c9d2e8f1a6b"
down_revision = "5d1e7a9c4b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dictionary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=True),
        sa.Column("role_kind", sa.String(length=10), nullable=True),
        sa.Column("type", sa.String(length=10), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_dictionary_entries_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dictionary_entries")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_dictionary_entries_kind")),
    )
    op.create_table(
        "dictionary_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("at", kernel.db.UTCDateTime(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by"], ["users.id"], name=op.f("fk_dictionary_changes_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dictionary_changes")),
    )
    op.create_index(op.f("ix_dictionary_changes_kind"), "dictionary_changes", ["kind"], unique=False)
    backfill(op.get_bind(), datetime.now(UTC))


def downgrade():
    op.drop_index(op.f("ix_dictionary_changes_kind"), table_name="dictionary_changes")
    op.drop_table("dictionary_changes")
    op.drop_table("dictionary_entries")


# --- backfill: the words the installation already uses ------------------------------------------------------
# Self-contained (the application's code may change after this revision): plain tables, lxml with no entity
# resolution, the type of a field guessed from the values dossiers hold.

SEQ_NS = "urn:sequences:bpmn:1"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY = re.compile(r"balance|rent|amount|montant|loyer|solde|dette|debt|arrears|impaye", re.IGNORECASE)
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")

VERSIONS = sa.table(
    "sequence_versions",
    sa.column("id", sa.Integer),
    sa.column("model", sa.JSON),
    sa.column("published_at", kernel.db.UTCDateTime),
)
SEQUENCES = sa.table("sequences", sa.column("id", sa.Integer), sa.column("draft_xml", sa.LargeBinary))
DOSSIERS = sa.table("dossiers", sa.column("id", sa.Integer), sa.column("data", sa.JSON))
ENTRIES = sa.table(
    "dictionary_entries",
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("label", sa.String),
    sa.column("label_en", sa.String),
    sa.column("role_kind", sa.String),
    sa.column("type", sa.String),
    sa.column("choices", sa.JSON),
    sa.column("fields", sa.JSON),
    sa.column("help", sa.Text),
    sa.column("updated_at", kernel.db.UTCDateTime),
    sa.column("updated_by", sa.Integer),
)
CHANGES = sa.table(
    "dictionary_changes",
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("change", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("at", kernel.db.UTCDateTime),
    sa.column("by", sa.Integer),
)


def backfill(connection, now: datetime) -> None:
    roles: dict[str, dict] = {}
    events: set[str] = set()
    outcomes: set[str] = set()
    versions = sa.select(VERSIONS.c.model).order_by(VERSIONS.c.published_at, VERSIONS.c.id)
    for (model,) in connection.execute(versions):
        for key, role in ((model or {}).get("roles") or {}).items():
            roles[key] = {
                "label": role.get("name") or roles.get(key, {}).get("label"),
                "kind": role.get("kind"),
            }
        for element in ((model or {}).get("elements") or {}).values():
            outcomes.update(element.get("outcomes") or ())
            if element.get("message"):
                events.add(element["message"])
    drafts = sa.select(SEQUENCES.c.draft_xml).where(SEQUENCES.c.draft_xml.is_not(None))
    for (xml,) in connection.execute(drafts):
        _read_draft(xml, roles, events, outcomes)
    rows = [
        _entry(
            "roles", key, role["label"], role_kind=role["kind"] if role["kind"] in _ROLE_KINDS else "internal"
        )
        for key, role in roles.items()
    ]
    rows += [_entry("fields", key, None, type=type_) for key, type_ in _field_types(connection).items()]
    rows += [_entry("events", key, None) for key in events]
    rows += [_entry("outcomes", key, None) for key in outcomes]
    rows = [row for row in rows if KEY.fullmatch(row["key"])]
    if not rows:
        return
    for row in rows:
        row.update(updated_at=now, updated_by=None)
    connection.execute(ENTRIES.insert(), rows)
    connection.execute(
        CHANGES.insert(),
        [
            {
                "kind": row["kind"],
                "key": row["key"],
                "change": "created",
                "before": None,
                "after": _public(row),
                "at": now,
                "by": None,
            }
            for row in rows
        ],
    )


_ROLE_KINDS = ("internal", "partner", "contact")


def _entry(kind: str, key: str, label: str | None, role_kind=None, type=None) -> dict:
    label = " ".join((label or "").split()) or _humanize(key)
    return {
        "kind": kind,
        "key": key,
        "label": label[:200],
        "label_en": None,
        "role_kind": role_kind,
        "type": type,
        "choices": [],
        "fields": [],
        "help": "",
    }


def _public(row: dict) -> dict:
    data = {"key": row["key"], "label": row["label"], "label_en": None, "help": ""}
    if row["kind"] == "roles":
        data["kind"] = row["role_kind"]
    elif row["kind"] == "fields":
        data.update(type=row["type"], choices=[])
    elif row["kind"] == "events":
        data["fields"] = []
    return data


def _humanize(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _read_draft(xml: bytes, roles: dict, events: set, outcomes: set) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return  # a draft that is not well-formed says nothing
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        key = (lane.get(f"{{{SEQ_NS}}}role") or "").strip()
        if key and key not in roles:
            kind = (lane.get(f"{{{SEQ_NS}}}roleKind") or "internal").strip()
            roles[key] = {"label": lane.get("name"), "kind": kind}
    for message in root.iter(f"{{{BPMN_NS}}}message"):
        if (message.get("name") or "").strip():
            events.add(message.get("name").strip())
    for node in root.iter():
        outcomes.update(o.strip() for o in (node.get(f"{{{SEQ_NS}}}outcomes") or "").split(",") if o.strip())


def _field_types(connection) -> dict[str, str]:
    """Key → type, for every key of the dossiers' data: a date when every value is an ISO date, a boolean, an
    amount (a number whose name says money) or a number; text otherwise."""
    seen: dict[str, set[str]] = {}
    for (data,) in connection.execute(sa.select(DOSSIERS.c.data)).yield_per(1000):
        for key, value in (data or {}).items():
            if value is not None and value != "":
                seen.setdefault(key, set()).add(_kind_of(value))
            else:
                seen.setdefault(key, set())
    types = {}
    for key, kinds in seen.items():
        kind = kinds.pop() if len(kinds) == 1 else "text"
        if kind == "number" and MONEY.search(key):
            kind = "amount"
        types[key] = kind
    return types


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        return "date"
    return "text"
