"""designer/diff_words.py: the differences between two versions said in words, never as XML paths."""

from bpmn.xml import parse_xml
from designer.diff import diff_xml, elements
from designer.diff_words import describe, element_names
from tests.unit.test_diff import BASE, doc


def sentences(before: str, after: str, lang: str = "fr") -> dict[str, str]:
    old, new = doc(before), doc(after)
    names = element_names(elements(parse_xml(old)), elements(parse_xml(new)), lang=lang)
    return {s.element_id: s.text for s in describe(diff_xml(old, new), names, lang)}


SIX_WEEKS = BASE.replace('name="Attendre"', 'name="6 semaines"')


def test_a_changed_delay_is_said_in_words():
    said = sentences(SIX_WEEKS, SIX_WEEKS.replace("P15D", "P3W"))
    assert said == {"wait": "Délai « 6 semaines » : 15 jours → 3 semaines"}
    said = sentences(SIX_WEEKS, SIX_WEEKS.replace("P15D", "P3W"), "en")
    assert said == {"wait": "Delay “6 semaines”: 15 days → 3 weeks"}


def test_attributes_values_and_flow_ends_are_named():
    after = BASE.replace(
        'seq:outcomes="paid,no_answer"', 'seq:outcomes="paid" seq:due="P10D" seq:calendar="business"'
    )
    after = after.replace('outcome == "paid"', 'outcome == "no_answer"')
    said = sentences(BASE, after)
    assert said["call"] == (
        "Action « Appeler » : calendrier : jours ouvrés ; échéance : 10 jours ouvrés ; "
        "résultats possibles : « paid,no_answer » → « paid »"
    )
    assert said["f1"] == 'Flux : condition : « outcome == "paid" » → « outcome == "no_answer" »'


def test_added_and_removed_elements_by_kind_and_name_without_paths():
    start = '<bpmn:startEvent id="start"/>'
    after = BASE.replace(start, start + '<bpmn:endEvent id="end" name="Dette soldée"/>')
    after = after.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="wait">',
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait">',
    )
    said = sentences(BASE, after)
    assert said["end"] == "Ajout : Fin « Dette soldée »"
    assert said["f1"] == "Flux : départ : « Appeler » → « Début »"
    for text in said.values():
        assert "/" not in text and "@" not in text and "Ref" not in text
