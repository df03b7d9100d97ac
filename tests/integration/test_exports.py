"""CSV exports: no cell a spreadsheet would run as a formula (OWASP "CSV injection"), in every export."""

import csv
import io
import json
import re
from datetime import datetime

from sqlalchemy import select

from designer.dictionary_services import create_entry
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.dossiers import add_participant
from runtime.events import post_event
from runtime.journal import JournalEntry
from runtime.models import Action
from runtime.runs import add_adhoc_action
from tests.factories import make_user
from tests.integration.test_workspace_pages import client, login, world  # noqa: F401  (fixtures)
from web.exports import cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def rows_of(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def live_cells(rows) -> list[str]:
    """Cells a spreadsheet would run: they start like a formula and are not a plain number."""
    return [c for row in rows for c in row if c.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(c)]


def test_a_cell_is_neutralised_unless_it_is_a_number_or_a_date():
    for start in FORMULA_STARTS:
        assert cell(f"{start}1+1") == f"'{start}1+1"
    assert cell('=HYPERLINK("http://x.example")') == '\'=HYPERLINK("http://x.example")'
    assert cell("-120.50") == "-120.50" and cell("+33") == "+33" and cell("-120,50") == "-120,50"
    assert cell(-120.5) == -120.5 and cell(7) == 7 and cell(None) == ""
    assert cell("- 120") == "'- 120" and cell("Benali") == "Benali"
    assert cell(datetime(2026, 3, 2, 9, 5, 7)) == "2026-03-02 09:05:07"


def test_history_export_neutralises_every_formula(client, session, world, users):  # noqa: F811
    dossier, run = world["dossier"], world["run"]
    at = client.application.config["CLOCK"].now()
    typed = {}
    # Event names are dictionary keys (letters, digits, _): what is typed in an event is its fields' values.
    signal = {
        "key": "signal",
        "label": "=Signal",
        "fields": [{"key": "note", "type": "text"}, {"key": "montant", "type": "amount"}],
    }
    create_entry(session, "events", signal, None, at)
    for index, start in enumerate(FORMULA_STARTS):
        user = make_user(session, name=f"{start}cmd|' /C calc'!A{index}", email=f"u{index}@x.test")
        actor = Actor(user_id=user.id)
        contact = f'{start}HYPERLINK("http://evil.example/{index}")'
        add_participant(session, dossier, actor, at, kind="contact", name=contact)
        action = add_adhoc_action(
            session, run.id, actor, at, name=f"{start}Appel {index}", role="gestionnaire"
        )
        complete_action(session, action.id, actor, "done", None, f"{start}1+1", at)
        post_event(session, dossier.id, actor, "signal", {"note": f"{start}2+2", "montant": -120.5}, at)
        typed[user.user.name] = (contact, f"{start}1+1", f"{start}2+2")
    session.commit()
    login(client, users["manager"])

    response = client.get(f"/dossiers/{dossier.id}/history.csv")

    assert response.mimetype == "text/csv" and response.mimetype_params["header"] == "present"
    rows = rows_of(response)
    assert live_cells(rows) == []
    who = {r[1] for r in rows[1:]}
    assert {f"'{name}" for name in typed} <= who
    entries = session.query(JournalEntry).filter_by(dossier_id=dossier.id).order_by(JournalEntry.id).all()
    assert len(rows) == len(entries) + 1
    for entry, row in zip(entries, rows[1:], strict=True):
        assert datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S") == entry.at.replace(tzinfo=None)
        assert row[3] == str(entry.run_id or "") and row[4] == str(entry.action_id or "")
        assert json.loads(row[6]) == entry.data  # numbers inside (-120.5) unchanged
    # The names are there as typed (less the spaces the service trims), inside the detail's sentence.
    text = "\n".join(c for row in rows for c in row)
    assert all(contact.strip() in text for contact, _comment, _note in typed.values())


def _url(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(values.get(name, 1)), url)
    return url


def test_every_csv_route_is_written_by_the_one_function(client, session, world, users):  # noqa: F811
    """Every GET address of the app is asked, with ids of a real dossier; whatever answers CSV must come from
    web.exports.csv_response (its content type says header=present) and hold no live formula."""
    dossier, run = world["dossier"], world["run"]
    manager = Actor(user_id=users["manager"].id)
    at = client.application.config["CLOCK"].now()
    add_participant(session, dossier, manager, at, kind="contact", name="=1+1")
    session.commit()
    action_id = session.scalar(select(Action.id).where(Action.run_id == run.id).limit(1))
    values = {
        "dossier_id": dossier.id,
        "run_id": run.id,
        "action_id": action_id,
        "key": "rt_relance",
        "number": 1,
    }
    login(client, users["admin"])
    app = client.application
    answered_csv = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "openapi.docs", "pages.logout"):
            continue
        response = client.get(_url(rule, values))
        if response.mimetype != "text/csv":
            continue
        answered_csv.add(rule.rule)
        assert response.mimetype_params.get("header") == "present", rule.rule
        assert live_cells(rows_of(response)) == [], rule.rule
    assert "/dossiers/<int:dossier_id>/history.csv" in answered_csv
    named_csv = {r.rule for r in app.url_map.iter_rules() if r.rule.endswith(".csv")}
    assert named_csv <= answered_csv  # an export that did not answer here would escape the check
