"""Every screen speaks the dictionary's words: role, outcome, field and event labels instead of keys, in
French, or in English when the user chose it and the dictionary has an English label."""

import csv
import io
import json

import pytest

from designer.dictionary import DictionaryEntry
from runtime.actions import complete_action
from runtime.actors import Actor
from tests.conftest import START
from tests.integration.test_workspace_pages import FreshClient, login, open_action, text
from tests.workspace_data import ensure_documents_table, publish, relance_dossier

ENTRIES = [
    ("roles", "gestionnaire", "Gestionnaire du dossier", "Case manager", {"role_kind": "internal"}),
    ("roles", "commissaire_justice", "Commissaire de justice", "Bailiff", {"role_kind": "partner"}),
    ("outcomes", "paid", "Payé", "Paid", {}),
    ("outcomes", "promise", "Promesse de paiement", None, {}),
    ("outcomes", "no_answer", "Sans réponse", "No answer", {}),
    ("outcomes", "served", "Signifié", None, {}),
    ("outcomes", "not_served", "Non signifié", None, {}),
    ("fields", "montant", "Montant de la dette", "Debt", {"type": "amount"}),
    ("fields", "hearing_date", "Date d'audience", "Hearing date", {"type": "date"}),
    ("events", "paiement_recu", "Paiement reçu", "Payment received", {}),
]


def fill_dictionary(session, entries=ENTRIES):
    for kind, key, label, label_en, extra in entries:
        session.add(
            DictionaryEntry(kind=kind, key=key, label=label, label_en=label_en, updated_at=START, **extra)
        )
    session.commit()


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def world(app, session, users):
    from web.extensions import db

    ensure_documents_table(db)
    publish(session, users["analyst"].id, "rt_sub", "rt_plan", "rt_relance")
    dossier, run = relance_dossier(session, users["manager"], users["partner"])
    session.commit()
    fill_dictionary(session)
    return {"dossier": dossier, "run": run, "users": users}


def test_the_dossier_page_shows_labels_never_keys(client, session, world):
    login(client, world["users"]["manager"])
    dossier = world["dossier"]
    page = text(client.get(f"/dossiers/{dossier.id}"))
    assert "Fait : Payé" in page and "Fait : Sans réponse" in page and "Fait : Promesse de paiement" in page
    assert "Fait : paid" not in page and "Fait : no_answer" not in page
    assert "<strong>Gestionnaire du dossier</strong>" in page
    assert "Si « Payé »" in page and "Si « paid »" not in page
    people = text(client.get(f"/dossiers/{dossier.id}?tab=people"))
    assert "Commissaire de justice" in people
    assert ">commissaire_justice<" not in people and "Titulaires du rôle commissaire_justice" not in people
    data = text(client.get(f"/dossiers/{dossier.id}?tab=data"))
    assert "Montant de la dette" in data and "1\u202f200,00 €" in data
    assert "<dt>montant</dt>" not in data


def test_english_labels_when_the_user_chose_english(client, session, world):
    login(client, world["users"]["manager"])
    client.set_cookie("lang", "en")
    page = text(client.get(f"/dossiers/{world['dossier'].id}"))
    assert ": Paid</button>" in page and ": No answer</button>" in page
    # No English label: the French one.
    assert ": Promesse de paiement</button>" in page
    assert "<strong>Case manager</strong>" in page


def test_inbox_portal_and_history_show_labels(client, session, world):
    users, run, dossier = world["users"], world["run"], world["dossier"]
    login(client, users["manager"])
    inbox = text(client.get("/inbox/"))
    assert "<td>Gestionnaire du dossier</td>" in inbox and "<td>gestionnaire</td>" not in inbox
    call = open_action(session, run.id, "Call")
    complete_action(session, call.id, Actor(user_id=users["manager"].id), "done", "no_answer", None, START)
    session.commit()
    history = text(client.get(f"/dossiers/{dossier.id}?tab=history"))
    assert "résultat : Sans réponse" in history and "résultat : no_answer" not in history
    exported = client.get(f"/dossiers/{dossier.id}/history.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    details = [row[5] for row in rows[1:]]
    assert any("résultat : Sans réponse" in d for d in details), details
    assert not any("résultat : no_answer" in d for d in details)

    serve = open_action(session, run.id, "Serve")
    assert serve is not None
    login(client, users["partner"])
    portal = text(client.get(f"/portal/actions/{serve.id}"))
    assert "Commissaire de justice" in portal and "<dd>commissaire_justice</dd>" not in portal
    assert "Fait : Signifié" in portal and "Fait : served" not in portal


def test_a_dossier_data_change_is_told_with_labels_and_typed_values(client, session, world):
    login(client, world["users"]["manager"])
    dossier = world["dossier"]
    client.post(f"/dossiers/{dossier.id}/data", data={"key": "hearing_date", "value": "2027-03-15"})
    history = text(client.get(f"/dossiers/{dossier.id}?tab=history"))
    assert "Date d&#39;audience : — → 15/03/2027" in history


def test_the_run_diagram_says_conditions_in_words(client, session, world):
    login(client, world["users"]["manager"])
    page = text(client.get(f"/dossiers/{world['dossier'].id}"))
    start = page.index(f'id="run-{world["run"].id}-data"')
    data = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert data["labels"]["F_paid"] == "Résultat : Payé"
    assert data["labels"]["F_plan"] == "Résultat : Promesse de paiement"
    assert data["labels"]["F_default"] == "sinon"
    assert not any("outcome ==" in label for label in data["labels"].values())
