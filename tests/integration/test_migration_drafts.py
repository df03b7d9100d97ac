"""The revision that keeps every draft, upgrading a database written by the previous schema."""

from datetime import timedelta

import sqlalchemy as sa

from kernel.db import UTCDateTime
from tests.conftest import START
from tests.factories import bpmn

PREVIOUS = "c2d880609d38"


# The tables as the previous schema wrote them.
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("role", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", UTCDateTime),
)
SEQUENCES = sa.table(
    "sequences",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("draft_xml", sa.LargeBinary),
    sa.column("draft_issues", sa.JSON),
    sa.column("draft_updated_at", UTCDateTime),
    sa.column("draft_updated_by", sa.Integer),
    sa.column("created_at", UTCDateTime),
)
DRAFTS = sa.table(
    "sequence_drafts",
    sa.column("sequence_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("xml", sa.LargeBinary),
    sa.column("element_count", sa.Integer),
    sa.column("saved_at", UTCDateTime),
    sa.column("saved_by", sa.Integer),
)


def test_upgrade_makes_each_current_draft_the_first_entry_of_its_history(empty_url):
    from flask_migrate import upgrade

    from designer import drafts, services
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "SECRET_KEY": "t"}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        saved_at = START + timedelta(hours=2)
        with db.engine.begin() as connection:
            connection.execute(
                USERS.insert().values(
                    id=1,
                    email="a@example.test",
                    name="Nadia",
                    kind="internal",
                    role="analyst",
                    password_hash="x",
                    active=True,
                    created_at=START,
                )
            )
            connection.execute(
                SEQUENCES.insert(),
                [
                    {
                        "id": 1,
                        "key": "rt_relance",
                        "name": "Relance (test)",
                        "draft_xml": bpmn("runtime/rt_relance.bpmn"),
                        "draft_issues": [],
                        "draft_updated_at": saved_at,
                        "draft_updated_by": 1,
                        "created_at": START,
                    },
                    # a sequence without draft (its draft was never stored): no entry
                    {
                        "id": 2,
                        "key": "sans_brouillon",
                        "name": "Sans brouillon",
                        "draft_xml": None,
                        "draft_issues": [],
                        "draft_updated_at": None,
                        "draft_updated_by": None,
                        "created_at": START,
                    },
                ],
            )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(sa.select(DRAFTS)).all()
            archived = connection.execute(sa.text("SELECT archived_at FROM sequences")).scalars().all()
        assert [(r.sequence_id, r.name, r.element_count, r.saved_at, r.saved_by) for r in rows] == [
            (1, "Relance (test)", 17, saved_at, 1)
        ]
        assert rows[0].xml == bpmn("runtime/rt_relance.bpmn")
        assert archived == [None, None]
        # The upgraded data works with the services: listed, and a new save keeps it.
        sequence = services.get_sequence(db.session, "rt_relance")
        listed = drafts.list_drafts(db.session, sequence, saved_at)
        assert [(d.saved_by, d.current) for d in listed] == [("Nadia", True)]
        services.save_draft(
            db.session,
            bpmn("runtime/rt_relance.bpmn").replace(b"P8D", b"P9D"),
            1,
            saved_at + timedelta(minutes=5),
            replace=True,
        )
        db.session.commit()
        assert len(drafts.list_drafts(db.session, sequence, saved_at)) == 2
        db.session.remove()
        db.engine.dispose()
