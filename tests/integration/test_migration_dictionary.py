"""The dictionary revision fills the dictionary from what the installation already uses, upgrading a database
written by the previous schema."""


import pytest
import sqlalchemy as sa

from kernel.db import UTCDateTime
from tests.conftest import START
from tests.factories import bpmn

PREVIOUS = "5d1e7a9c4b20"


# The tables as the previous schema wrote them.
SEQUENCES = sa.table(
    "sequences",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("draft_xml", sa.LargeBinary),
    sa.column("draft_issues", sa.JSON),
    sa.column("created_at", UTCDateTime),
)
VERSIONS = sa.table(
    "sequence_versions",
    sa.column("id", sa.Integer),
    sa.column("sequence_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("name", sa.String),
    sa.column("xml", sa.LargeBinary),
    sa.column("checksum", sa.String),
    sa.column("model", sa.JSON),
    sa.column("spec", sa.JSON),
    sa.column("published_at", UTCDateTime),
)
DOSSIERS = sa.table(
    "dossiers",
    sa.column("id", sa.Integer),
    sa.column("reference", sa.String),
    sa.column("title", sa.String),
    sa.column("data", sa.JSON),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)
RUNS = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("dossier_id", sa.Integer),
    sa.column("version_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("called_versions", sa.JSON),
    sa.column("active_elements", sa.JSON),
    sa.column("waiting_messages", sa.JSON),
    sa.column("results", sa.JSON),
    sa.column("revision", sa.Integer),
    sa.column("started_at", UTCDateTime),
    sa.column("started_by", sa.String),
    sa.column("step", sa.Integer),
)

DRAFT_ONLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:seq="urn:sequences:bpmn:1"
                  id="D" targetNamespace="urn:t">
  <bpmn:message id="M1" name="plan_accepte"/>
  <bpmn:process id="brouillon" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L1" name="Commissaire de justice" seq:role="commissaire_justice"
      seq:roleKind="partner"/></bpmn:laneSet>
    <bpmn:userTask id="T" name="Signifier" seq:outcomes="served, not_served"/>
  </bpmn:process>
</bpmn:definitions>"""


def _model(xml: bytes) -> dict:
    from bpmn.dialect import read_model
    from bpmn.xml import parse_xml

    return read_model(parse_xml(xml)).to_dict()


def test_upgrade_fills_the_dictionary_from_what_is_used(empty_url):
    from flask_migrate import upgrade

    from designer import dictionary
    from designer import dictionary_services as service
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "SECRET_KEY": "t"}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        loop = bpmn("runtime/rt_loop.bpmn")
        with db.engine.begin() as connection:
            connection.execute(
                SEQUENCES.insert(),
                [
                    {
                        "id": 1,
                        "key": "rt_loop",
                        "name": "Échéancier",
                        "draft_xml": loop,
                        "draft_issues": [],
                        "created_at": START,
                    },
                    {
                        "id": 2,
                        "key": "brouillon",
                        "name": "Brouillon",
                        "draft_xml": DRAFT_ONLY,
                        "draft_issues": [],
                        "created_at": START,
                    },
                ],
            )
            connection.execute(
                VERSIONS.insert().values(
                    id=1,
                    sequence_id=1,
                    number=1,
                    name="Échéancier",
                    xml=loop,
                    checksum="c" * 64,
                    model=_model(loop),
                    spec={},
                    published_at=START,
                )
            )
            connection.execute(
                DOSSIERS.insert(),
                [
                    {
                        "id": 1,
                        "reference": "IMP-1",
                        "title": "A",
                        "created_at": START,
                        "updated_at": START,
                        "data": {
                            "balance": 1200.5,
                            "hearing_date": "2027-03-15",
                            "caf_beneficiary": True,
                            "installments": 6,
                            "tenant_name": "M. Durand",
                            "note": None,
                        },
                    },
                    {
                        "id": 2,
                        "reference": "IMP-2",
                        "title": "B",
                        "created_at": START,
                        "updated_at": START,
                        "data": {"balance": 300, "hearing_date": "15/03/2027", "monthly_rent": 650},
                    },
                ],
            )
            connection.execute(
                RUNS.insert().values(
                    id=1,
                    dossier_id=1,
                    version_id=1,
                    status="running",
                    called_versions={},
                    active_elements=["Installment"],
                    waiting_messages=["surendettement"],
                    results={},
                    revision=1,
                    started_at=START,
                    started_by="user:1",
                    step=1,
                )
            )
        upgrade()
        words = dictionary.load(db.session)
        assert words.roles["gestionnaire"].label == "Gestionnaire"
        assert words.roles["gestionnaire"].kind == "internal"
        assert words.roles["commissaire_justice"].kind == "partner"  # from a draft never published
        assert words.roles["commissaire_justice"].label == "Commissaire de justice"
        assert set(words.events) == {"surendettement", "plan_accepte"}
        assert set(words.outcomes) == {"paid", "last", "missed", "served", "not_served"}
        assert words.label("outcomes", "not_served") == "Not served"
        types = {key: field.type for key, field in words.fields.items()}
        assert types == {
            "balance": "amount",
            "monthly_rent": "amount",
            "installments": "number",
            "caf_beneficiary": "boolean",
            "hearing_date": "text",  # one dossier holds a French date: text until someone retypes it
            "tenant_name": "text",
            "note": "text",
        }
        changes = service.changes_of(db.session, "roles", "gestionnaire")
        assert [(c.change, c.after["kind"]) for c in changes] == [("created", "internal")]
        # The upgraded data works with the services: the running version's role is protected.
        from runtime.runs import running_by_version

        with pytest.raises(service.EntryInUse):
            service.remove_entry(
                db.session, "roles", "gestionnaire", None, START, running_by_version(db.session)
            )
        service.remove_entry(
            db.session, "roles", "commissaire_justice", None, START, running_by_version(db.session)
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
