"""Third-party diagrams (shared/corpus): validation never crashes and always says what to fix."""

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from bpmn.di import model_elements
from bpmn.validation import validate
from kernel.errors import Malformed

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.bpmn")) if CORPUS.is_dir() else []
# Deliberately broken: not well-formed XML, and a root outside the BPMN namespace (not a BPMN file at all).
UNREADABLE = {"bpmn-io/invalid/not-wellformed__draw__events.bpmn", "bpmn-io/invalid/missing-namespace.bpmn"}
FRENCH = (" le ", " la ", " l'", " les ", " de ", " du ", " des ", " un ", " une ", "n'", " : ")


def name(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


@pytest.mark.skipif(not FILES, reason="shared/corpus not present")
def test_the_corpus_is_there():
    assert len(FILES) > 200
    assert UNREADABLE <= {name(path) for path in FILES}


@pytest.mark.skipif(not FILES, reason="shared/corpus not present")
@pytest.mark.parametrize("path", FILES, ids=name)
def test_validation_of_a_third_party_diagram(path):
    data = path.read_bytes()
    if name(path) in UNREADABLE:
        with pytest.raises(Malformed) as raised:
            validate(data)
        assert raised.value.message
        return
    report = validate(data)
    assert report.valid == (report.issues == [])
    ids = {element.get("id") for element in etree.fromstring(data).iter() if isinstance(element.tag, str)}
    for issue in report.issues:
        assert issue.code and issue.code == issue.code.lower() and " " not in issue.code
        assert issue.message.strip()
        assert any(word in issue.message for word in FRENCH), issue.message
        if issue.element_id is not None:
            assert issue.element_id in ids, issue
    # Vendors' extensions and the layout have ids of their own: only the model's count as duplicates.
    model_ids = Counter(element.get("id") for element in model_elements(etree.fromstring(data)))
    for issue in report.issues:
        if issue.code == "duplicate_id":
            assert model_ids[issue.element_id] > 1, issue
    assert [warning.code for warning in report.warnings] in ([], ["layout"])
    for issue in report.issues:
        if "événement d'erreur" in issue.message or "événement de signal" in issue.message:
            assert "minuterie ou un message" not in issue.message, issue
