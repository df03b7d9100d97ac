"""`sequences demo` on a database that already holds sequences of the library's keys, drawn by someone else.

The demo either refuses in one sentence and writes nothing, or, with `--prefix`, loads the whole library under
other keys next to them; its dossiers then run on the prefixed sequences only."""

from lxml import etree
from sqlalchemy import func, inspect, select, table

from designer.models import Sequence, SequenceVersion
from designer.services import publish_versions, save_draft
from runtime.models import Dossier, Run, RunStatus
from web.demo import CASES, LIBRARY
from web.demo_dictionary import entries

KEYS = ["relance_amiable", "precontentieux", "contentieux", "expulsion", "plan_apurement"]
SEQ = "urn:sequences:bpmn:1"

# Anyone's own S1, drawn from scratch: one call, then the end.
FOREIGN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:seq="urn:sequences:bpmn:1"
                  id="Defs_mine" targetNamespace="urn:example:mine">
  <bpmn:process id="relance_amiable" name="Ma relance" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_gest" name="Gestionnaire" seq:role="gestionnaire">
        <bpmn:flowNodeRef>Debut</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Appeler</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Fin</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Debut"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Debut" targetRef="Appeler"/>
    <bpmn:userTask id="Appeler" name="Appeler le locataire"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Appeler" targetRef="Fin"/>
    <bpmn:endEvent id="Fin"/>
  </bpmn:process>
</bpmn:definitions>"""


def _publish_foreign(session, clock):
    save_draft(session, FOREIGN, None, clock.now())
    publish_versions(session, ["relance_amiable"], None, clock.now())
    session.commit()


def _rows(session) -> dict[str, int]:
    """Rows of every table of the schema."""
    names = inspect(session.connection()).get_table_names()
    counts = {name: session.scalar(select(func.count()).select_from(table(name))) for name in names}
    session.rollback()
    return counts


def test_demo_refuses_a_foreign_sequence_in_one_sentence_and_writes_nothing(app, session, clock):
    from web.demo import demo_command

    _publish_foreign(session, clock)
    before = _rows(session)
    result = app.test_cli_runner().invoke(demo_command)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert message.startswith("Error: ") and message.count("\n") == 0, message
    assert "relance_amiable" in message and "precontentieux" not in message
    assert "base vide" in message and "--prefix demo_" in message
    session.expire_all()
    assert _rows(session) == before
    assert before["dossiers"] == 0 and before["sequence_versions"] == 1


def test_demo_with_a_prefix_loads_the_whole_library_next_to_foreign_sequences(app, session, clock):
    from web.demo import demo_command

    _publish_foreign(session, clock)
    first = app.test_cli_runner().invoke(demo_command, ["--prefix", "demo_"])
    assert first.exit_code == 0, (first.output, first.exception)
    assert "Dossiers : 30 créé(s)" in first.output
    session.expire_all()
    published = {s.key: [v.number for v in s.versions] for s in session.scalars(select(Sequence))}
    assert published == {"relance_amiable": [1], **{f"demo_{key}": [1] for key in KEYS}}
    # Every reference to another sequence of the library names its prefixed key.
    referenced = set()
    for version in session.scalars(select(SequenceVersion).join(Sequence).where(Sequence.key.like("demo_%"))):
        root = etree.fromstring(version.xml)
        [process] = [p for p in root.iter("{*}process") if p.get("isExecutable") == "true"]
        assert process.get("id") == version.key
        assert {p.get("processRef") for p in root.iter("{*}participant")} == {version.key}
        referenced |= {e.get(f"{{{SEQ}}}next") for e in root.iter() if e.get(f"{{{SEQ}}}next")}
        referenced |= {e.get("calledElement") for e in root.iter("{*}callActivity")}
    assert referenced == {f"demo_{key}" for key in KEYS if key != "relance_amiable"}
    # The demo's dossiers run on the prefixed sequences only, switches included; the foreign one is untouched.
    runs = session.execute(select(Sequence.key, Run.status).join(Run.version)
                           .join(SequenceVersion.sequence)).all()
    assert {key for key, _ in runs} == {f"demo_{key}" for key in KEYS}
    assert RunStatus.SWITCHED in {status for _, status in runs}
    assert RunStatus.FAILED not in {status for _, status in runs}
    assert session.scalar(select(func.count()).select_from(Dossier)) == len(CASES)
    assert _rows(session)["dictionary_entries"] == len(entries())
    foreign = session.scalar(select(SequenceVersion).join(Sequence).where(Sequence.key == "relance_amiable"))
    assert foreign.xml == FOREIGN
    # Again, with the same prefix: nothing more.
    before = _rows(session)
    second = app.test_cli_runner().invoke(demo_command, ["--prefix", "demo_"])
    assert second.exit_code == 0, (second.output, second.exception)
    session.expire_all()
    assert _rows(session) == before


def test_demo_refuses_a_prefix_that_cannot_start_a_key(app, session):
    from web.demo import demo_command

    before = _rows(session)
    result = app.test_cli_runner().invoke(demo_command, ["--prefix", "1 démo"])
    assert result.exit_code == 2 and "--prefix" in result.output, result.output
    session.expire_all()
    assert _rows(session) == before


def test_the_library_files_are_loaded_unchanged_without_a_prefix():
    from web.demo import library_files

    assert library_files("") == {path.stem.split("_", 1)[1]: path.read_bytes()
                                 for path in sorted(LIBRARY.glob("*.bpmn"))}


def test_every_word_of_the_library_and_of_the_dossiers_has_a_french_and_an_english_label():
    from bpmn.dialect import read_model
    from bpmn.xml import parse_xml
    from designer.dictionary_services import words_of_version

    known: dict[str, dict[str, dict]] = {}
    for kind, data in entries():
        known.setdefault(kind, {})[data["key"]] = data
        assert data["label"] and data["label_en"], (kind, data["key"])
    for path in sorted(LIBRARY.glob("*.bpmn")):
        xml = path.read_bytes()
        for kind, keys in words_of_version(read_model(parse_xml(xml)).to_dict(), xml).items():
            assert keys <= set(known[kind]), (path.name, kind, keys - set(known[kind]))
    data_keys = {"tenant", "address", "landlord", "landlord_kind", "balance", "monthly_rent",
                 "caf_beneficiary", "has_guarantor", "hearing_date"}
    data_keys |= {key for case in CASES for key in case.extra}
    assert data_keys <= set(known["fields"])
    assert known["events"]["paiement_recu"]["fields"][0]["type"] == "amount"
    assert known["outcomes"]["partial"]["label"] == "Paiement partiel"
