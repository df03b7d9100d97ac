"""Forms on user tasks (seq:show, seq:fill) and validation against the dictionary, given as plain data."""

from pathlib import Path
from xml.sax.saxutils import escape

from bpmn.dialect import read_model
from bpmn.validation import validate
from bpmn.vocabulary import Term, Vocabulary
from bpmn.xml import parse_xml

VALID = (Path(__file__).resolve().parents[1] / "data" / "bpmn" / "valid" / "relance.bpmn").read_bytes()

WORDS = Vocabulary(
    roles={"gestionnaire": "internal", "locataire": "contact"},
    fields={
        "hearing_date": Term("date", "Date d'audience"),
        "balance": Term("amount", "Solde"),
        "montant_plan": Term("amount", "Montant du plan"),
        "nb_echeances": Term("number", "Nombre d'échéances"),
        "landlord_kind": Term("choice", "Bailleur", ("personne_physique", "personne_morale")),
    },
    events={"paiement_recu": {"montant": Term("amount", "Montant")}},
)


def changed(*pairs: tuple[str, str]) -> bytes:
    text = VALID.decode()
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new, 1)
    return text.encode()


def with_form(form: str) -> bytes:
    return changed(('seq:outcomes="paid,promise,no_answer"', f'seq:outcomes="paid,promise,no_answer" {form}'))


def with_condition(expression: str) -> bytes:
    return changed(('outcome == "paid"', escape(expression)))


def issues(data: bytes, words: Vocabulary | None = WORDS) -> list[tuple[str | None, str, str]]:
    return [(i.element_id, i.code, i.message) for i in validate(data, words=words).issues]


def test_a_form_is_read_with_its_required_fields():
    data = with_form('seq:show="balance, hearing_date" seq:fill="montant_plan!,nb_echeances"')
    task = read_model(parse_xml(data)).elements["Task_relancer"]
    assert task.show == ["balance", "hearing_date"]
    assert task.fill == ["montant_plan", "nb_echeances"]
    assert task.required == ["montant_plan"]
    assert issues(data) == []


def test_a_form_field_the_dictionary_does_not_know_is_named_with_the_closest_key():
    found = issues(with_form('seq:fill="montant_plans!"'))
    assert [(element, code) for element, code, _m in found] == [("Task_relancer", "unknown_field")]
    assert "champ inconnu « montant_plans » : vouliez-vous dire montant_plan ?" in found[0][2]


def test_a_field_shown_and_filled_is_named_once():
    found = issues(with_form('seq:show="balance" seq:fill="balance"'))
    assert [code for _e, code, _m in found] == ["form_field_twice"]


def test_unknown_dossier_field_in_a_condition_suggests_the_right_one():
    found = issues(with_condition('outcome == "paid" and dossier.date_audience != None'))
    assert [(e, c) for e, c, _m in found] == [("Flow_paye", "unknown_field")]
    assert "champ inconnu « date_audience » : vouliez-vous dire hearing_date ?" in found[0][2]


def test_a_date_compared_with_a_number_is_refused():
    found = issues(with_condition('outcome == "paid" and dossier.hearing_date > 1000'))
    assert [c for _e, c, _m in found] == ["type_mismatch"]
    assert "« Date d'audience » (dossier.hearing_date) est une date et « 1000 » un nombre" in found[0][2]


def test_add_duration_of_an_amount_is_refused_in_a_timer_date():
    data = changed(
        ("<bpmn:timeDuration>P15D</bpmn:timeDuration>",
         '<bpmn:timeDate>add_duration(dossier.balance, "P8D")</bpmn:timeDate>'),
    )  # fmt: skip
    found = issues(data)
    assert [(e, c) for e, c, _m in found] == [("Timer_sans_reponse", "type_mismatch")]
    assert "add_duration() attend une date, mais « Solde » (dossier.balance) est un nombre" in found[0][2]


def test_a_choice_compared_with_a_value_it_does_not_offer():
    found = issues(with_condition('outcome == "paid" and dossier.landlord_kind == "societe"'))
    assert [c for _e, c, _m in found] == ["type_mismatch"]
    assert "« societe » n'est pas un des choix" in found[0][2]


def test_amount_compared_with_a_number_and_a_date_with_a_date_pass():
    condition = (
        'outcome == "paid" and dossier.montant_plan > 1000 and dossier.balance >= 2 * dossier.montant_plan '
        'and add_duration(dossier.hearing_date, "-P6W", "legal") < now() and event.montant > 0'
    )
    assert issues(with_condition(condition)) == []


def test_unknown_role_and_role_kind_against_the_dictionary():
    data = changed(
        ('seq:role="gestionnaire" seq:roleKind="internal"', 'seq:role="gestionaire" seq:roleKind="internal"')
    )
    found = issues(data)
    assert [(e, c) for e, c, _m in found] == [("Lane_gestionnaire", "unknown_role")]
    assert "vouliez-vous dire gestionnaire ?" in found[0][2]
    words = Vocabulary(roles={"gestionnaire": "partner", "locataire": "contact"})
    assert [c for _e, c, _m in issues(VALID, words)] == ["role_kind_conflict"]


def test_a_message_the_dictionary_does_not_know_and_an_unknown_event_field():
    data = changed(
        ('<bpmn:timerEventDefinition id="TimerDefinition_15j">',
         '<bpmn:messageEventDefinition messageRef="M_1"/><!--'),
        ("</bpmn:timerEventDefinition>", "-->"),
        ("</bpmn:process>", '</bpmn:process><bpmn:message id="M_1" name="paiment_recu"/>'),
        ('outcome == "paid"', 'outcome == "paid" and event.montnt > 0'),
    )  # fmt: skip
    found = issues(data)
    assert {(e, c) for e, c, _m in found} == {
        ("Timer_sans_reponse", "unknown_event"),
        ("Flow_paye", "unknown_event_field"),
    }
    message = next(m for _e, c, m in found if c == "unknown_event")
    assert "« paiment_recu »" in message and "vouliez-vous dire paiement_recu ?" in message


def test_without_a_dictionary_or_with_an_empty_kind_nothing_is_checked_against_it():
    data = with_condition('outcome == "paid" and dossier.date_audience > 1')
    assert issues(data, None) == []
    assert issues(data, Vocabulary()) == []
    assert [c for _e, c, _m in issues(data, Vocabulary(fields=WORDS.fields))] == ["unknown_field"]


def test_the_demo_library_is_valid_against_the_demo_dictionary():
    from web.demo import LIBRARY
    from web.demo_dictionary import entries

    roles, fields, events = {}, {}, {}
    for kind, data in entries():
        if kind == "roles":
            roles[data["key"]] = data["kind"]
        elif kind == "fields":
            fields[data["key"]] = Term(data["type"], data["label"], tuple(c["key"] for c in data["choices"]))
        elif kind == "events":
            events[data["key"]] = {f["key"]: Term(f["type"], f["label"]) for f in data["fields"]}
    words = Vocabulary(roles, fields, events)
    paths = sorted(LIBRARY.glob("*.bpmn"))
    assert len(paths) == 5
    for path in paths:
        assert issues(path.read_bytes(), words) == [], path.name
