"""The case manager's pages and the partner portal over HTTP (server-rendered, session cookie)."""

import csv
import io

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from runtime.actors import Actor
from runtime.dossiers import add_participant, create_dossier
from runtime.models import Action, ActionStatus, Run, RunStatus
from tests.conftest import START
from tests.workspace_data import ensure_documents_table, publish, relance_dossier

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


class FreshClient(FlaskClient):
    """Tests hold one app context for all requests, so Flask-Login's user cached in `g` would outlive the
    request: each request here loads its user again, as it does in a served app."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


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
    return {"dossier": dossier, "run": run, "users": users}


def login(client, account):
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(account.id)
        cookie["_fresh"] = True


def open_action(session, run_id, element_id):
    return session.scalar(
        select(Action).where(
            Action.run_id == run_id, Action.element_id == element_id, Action.status == ActionStatus.OPEN
        )
    )


def multipart(client, url, fields, files):
    """A multipart body built in memory: the test client would spool big bodies to a temporary file that
    nobody closes when the server refuses the body unread."""
    values = MultiDict(fields)
    for filename, data in files:
        values.add("files", FileStorage(io.BytesIO(data), filename=filename))
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def text(response):
    return response.get_data(as_text=True)


def test_every_page_renders_for_a_manager(client, session, world):
    login(client, world["users"]["manager"])
    dossier = world["dossier"]
    listing = client.get("/dossiers/")
    assert listing.status_code == 200 and "D-1" in text(listing) and "Relance (test)" in text(listing)
    page = client.get(f"/dossiers/{dossier.id}")
    body = text(page)
    assert page.status_code == 200
    assert "Appeler le locataire" in body and 'data-run-viewer="run-' in body
    # The diagram's data: XML with a drawing, the current step, labels of the gateway's flows.
    # Conditions are said in words (without a dictionary, keys made readable), never raw.
    assert "BPMNShape" in body and '"active": ["Call"]' in body
    assert '"F_paid": "R\\u00e9sultat : Paid"' in body
    # What each outcome leads to, computed from the version.
    assert "Si « Paid »" in body and "fin « Payé »" in body and "puis séquence Plan (test)" in body
    assert "« Signifier le commandement » (Commissaire de justice)" in body
    # One button per status/outcome.
    for choice in ("done:paid", "done:promise", "done:no_answer", "cancelled", "skipped"):
        assert f'value="{choice}"' in body
    for tab in ("people", "history", "data"):
        assert client.get(f"/dossiers/{dossier.id}?tab={tab}").status_code == 200
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200 and "Appeler le locataire" in text(inbox)
    assert client.get("/inbox/unassigned").status_code == 200
    overview = client.get("/overview/")
    assert overview.status_code == 200 and '"counts": {"Call": 1}' in text(overview)
    assert client.get("/dossiers/999999").status_code == 404


def test_english_labels(client, world):
    login(client, world["users"]["manager"])
    body = text(client.get("/dossiers/?lang=en"))
    assert "Cases" in body and "My actions" in body
    assert "History" in text(client.get(f"/dossiers/{world['dossier'].id}?lang=en"))


def test_search_filters_and_keyset_pagination(client, session, world):
    manager = world["users"]["manager"]
    actor = Actor(user_id=manager.id)
    for i in range(120):
        dossier = create_dossier(session, actor, f"R-{i:03d}", f"Dossier {i}", {}, START)
        add_participant(
            session, dossier, actor, START, kind="contact", name=f"Locataire{i:03d}"
        )
    session.commit()
    login(client, manager)
    first = text(client.get("/dossiers/"))
    assert "R-119" in first and "R-070" in first and "R-069" not in first and "D-1" not in first
    assert "Plus anciens" in first and "Plus récents" not in first
    after = first.split('href="/dossiers/?after=')[1].split('"')[0]
    second = text(client.get(f"/dossiers/?after={after}"))
    assert "R-069" in second and "R-020" in second and "R-119" not in second
    before = second.split('href="/dossiers/?before=')[1].split('"')[0]
    assert "R-119" in text(client.get(f"/dossiers/?before={before}"))
    by_name = text(client.get("/dossiers/?q=locataire042"))
    assert "R-042" in by_name and "R-041" not in by_name
    by_reference = text(client.get("/dossiers/?q=R-11"))
    assert "R-115" in by_reference and "R-100" not in by_reference
    running = text(client.get("/dossiers/?status=running"))
    assert "D-1" in running and "R-001" not in running
    by_sequence = text(client.get("/dossiers/?sequence=rt_relance"))
    assert "D-1" in by_sequence and "R-001" not in by_sequence
    assert "D-1" not in text(client.get("/dossiers/?overdue=1"))
    world_clock = client.application.config["CLOCK"]
    world_clock.advance(days=9)
    late = text(client.get("/dossiers/?overdue=1"))
    assert "D-1" in late and "1 en retard" in late and "R-001" not in late
    assert "overdue=1" in late or "Plus anciens" not in late


def test_a_full_day_through_the_forms(client, session, world, users):
    login(client, users["manager"])
    actor = Actor(user_id=users["manager"].id)
    dossier = create_dossier(session, actor, "D-2", "Martin", {}, START)
    add_participant(
        session,
        dossier,
        actor,
        START,
        kind="internal",
        name="Moi",
        user_id=users["manager"].id,
        roles=["gestionnaire"],
    )
    session.commit()
    url = f"/dossiers/{dossier.id}"
    form = text(client.get(f"{url}?launch=rt_relance"))
    assert "Rôles sans titulaire : Commissaire de justice" in form
    people = {p.name: p.id for p in session.get(type(dossier), dossier.id).participants}
    refused = client.post(
        f"{url}/runs",
        data={"sequence": "rt_relance", "roles_given": "1", "role:gestionnaire": str(people["Moi"])},
    )
    assert refused.status_code == 303 and "launch=rt_relance" in refused.location
    assert "n&#39;ont pas de titulaire : commissaire_justice" in text(client.get(refused.location))
    launched = client.post(
        f"{url}/runs",
        data={
            "sequence": "rt_relance",
            "roles_given": "1",
            "role:gestionnaire": str(people["Moi"]),
            "allow_unassigned": "1",
        },
    )
    assert launched.status_code == 303
    run = session.scalar(select(Run).where(Run.dossier_id == dossier.id))
    assert "sans titulaire" in text(client.get(f"{url}?tab=people"))
    # Give the role to a new partner participant, then to the run.
    client.post(
        f"{url}/participants",
        data={
            "kind": "partner",
            "name": "Étude Huissier",
            "roles": "commissaire_justice",
            "user_email": users["partner2"].user.email,
        },
    )
    session.expire_all()
    partner_id = next(
        p.id for p in session.get(type(dossier), dossier.id).participants if p.name == "Étude Huissier"
    )
    client.post(
        f"{url}/runs/{run.id}/roles", data={"role": "commissaire_justice", "participant_ids": str(partner_id)}
    )
    assert "sans titulaire" not in text(client.get(f"{url}?tab=people"))
    call = open_action(session, run.id, "Call")
    done = client.post(
        f"{url}/actions/{call.id}/complete", data={"choice": "done:no_answer", "comment": "répondeur"}
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Action, call.id).outcome == "no_answer"
    page = text(client.get(url))
    assert '"active": ["Msg_boundary", "Serve"]' in page and '"done": ["Call"]' in page
    # A second completion of the same action is refused with a message, not an error page.
    again = client.post(
        f"{url}/actions/{call.id}/complete", data={"choice": "done:paid"}, follow_redirects=True
    )
    assert again.status_code == 200 and "plus ouverte" in text(again)
    client.post(f"{url}/events", data={"name": "paiement_recu", "data": '{"montant": 1200}'})
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.COMPLETED
    client.post(f"{url}/runs", data={"sequence": "rt_relance"})
    second = session.scalars(select(Run).where(Run.dossier_id == dossier.id).order_by(Run.id.desc())).first()
    assert second.status == RunStatus.RUNNING
    switched = client.post(
        f"{url}/runs/{second.id}/switch", data={"sequence": "rt_plan", "reason": "plan signé"}
    )
    assert switched.status_code == 303
    session.expire_all()
    assert session.get(Run, second.id).status == RunStatus.SWITCHED
    third = session.get(Run, session.get(Run, second.id).next_run_id)
    client.post(f"{url}/runs/{third.id}/interrupt", data={"reason": ""})
    session.expire_all()
    assert session.get(Run, third.id).status == RunStatus.RUNNING  # a reason is required
    client.post(f"{url}/runs/{third.id}/interrupt", data={"reason": "dossier soldé"})
    session.expire_all()
    assert session.get(Run, third.id).status == RunStatus.INTERRUPTED
    history = text(client.get(f"{url}?tab=history"))
    for words in (
        "Séquence lancée",
        "Action terminée",
        "Événement métier",
        "Changement de séquence",
        "par Manager",
        "raison : dossier soldé",
        "commentaire : répondeur",
    ):
        assert words in history, words


def test_history_csv_export_and_filter(client, session, world):
    login(client, world["users"]["manager"])
    dossier = world["dossier"]
    response = client.get(f"/dossiers/{dossier.id}/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["date (UTC)", "qui", "quoi"]
    kinds = [r[2] for r in rows[1:]]
    assert kinds[0] == "Dossier créé" and "Séquence lancée" in kinds and "Action créée" in kinds
    assert rows[1][1] == "Manager"
    only = client.get(f"/dossiers/{dossier.id}/history.csv?kind=run_launched")
    filtered = list(csv.reader(io.StringIO(only.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert [r[2] for r in filtered[1:]] == ["Séquence lancée"]
    page = text(client.get(f"/dossiers/{dossier.id}?tab=history&kind=run_launched"))
    assert "<strong>Séquence lancée</strong>" in page and "<strong>Action créée</strong>" not in page


def test_inbox_overdue_first_and_unassigned_for_managers(client, session, world, users, clock):
    manager = users["manager"]
    relance_dossier(session, manager, users["partner"], reference="D-late")
    session.commit()
    clock.advance(days=4)
    relance_dossier(session, manager, users["partner"], reference="D-new", now=clock.now())
    actor = Actor(user_id=manager.id)
    lonely = create_dossier(session, actor, "D-lonely", "Sans gestionnaire", {}, clock.now())
    add_participant(
        session,
        lonely,
        actor,
        clock.now(),
        kind="partner",
        name="Huissier",
        user_id=users["partner"].id,
        roles=["commissaire_justice"],
    )
    from runtime.runs import launch_run

    launch_run(session, lonely.id, actor, clock.now(), sequence="rt_relance", allow_unassigned=True)
    session.commit()
    clock.advance(days=5)  # the first two are now 9 days old: overdue (due P8D); D-new is not
    login(client, manager)
    body = text(client.get("/inbox/"))
    assert body.index("D-1") < body.index("D-new") and body.index("D-late") < body.index("D-new")
    assert "D-lonely" not in body
    assert '<strong class="count-open">3</strong>' in body and 'count-overdue late">2</strong>' in body
    overdue = text(client.get("/inbox/?overdue=1"))
    assert "D-late" in overdue and "D-new" not in overdue
    unassigned = text(client.get("/inbox/unassigned"))
    assert "D-lonely" in unassigned and "D-1 " not in unassigned
    login(client, users["analyst"])
    assert client.get("/inbox/unassigned").status_code == 403


def test_partner_sees_only_the_portal_and_their_own_actions(client, session, world, users):
    dossier, run = world["dossier"], world["run"]
    call = open_action(session, run.id, "Call")
    manager_client = client.application.test_client()
    login(manager_client, users["manager"])
    manager_client.post(
        f"/dossiers/{dossier.id}/actions/{call.id}/complete", data={"choice": "done:no_answer"}
    )
    serve = open_action(session, run.id, "Serve")
    # Another dossier where partner2 holds the role.
    other, other_run = relance_dossier(session, users["manager"], users["partner2"], reference="D-other")
    session.commit()
    client.get(f"/dossiers/{other.id}")
    login(client, users["partner"])
    for url in (
        "/dossiers/",
        f"/dossiers/{dossier.id}",
        f"/dossiers/{dossier.id}?tab=history",
        "/inbox/",
        "/inbox/unassigned",
        "/overview/",
        "/designer/",
        f"/dossiers/{dossier.id}/history.csv",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/").status_code == 302
    home = text(client.get("/portal/"))
    assert "Signifier le commandement" in home and "D-1" in home and "D-other" not in home
    assert "Appeler le locataire" not in home  # the manager's action is not theirs
    assert client.get(f"/portal/actions/{serve.id}").status_code == 200
    assert client.get(f"/portal/actions/{call.id}").status_code == 404
    client.application.config["CLOCK"].advance(minutes=1)
    other_call = open_action(session, other_run.id, "Call")
    assert client.get(f"/portal/actions/{other_call.id}").status_code == 404
    assert (
        client.post(f"/portal/actions/{other_call.id}/complete", data={"choice": "done"}).status_code == 404
    )
    # Complete with an outcome, a comment and a PDF.
    done = multipart(
        client,
        f"/portal/actions/{serve.id}/complete",
        {"choice": "done:served", "comment": "signifié à personne"},
        [("acte.pdf", PDF)],
    )
    assert done.status_code == 303 and done.location.endswith("/portal/")
    session.expire_all()
    finished = session.get(Action, serve.id)
    assert (
        finished.status == "done"
        and finished.outcome == "served"
        and finished.comment == "signifié à personne"
    )
    from runtime.documents import Document

    document = session.scalar(select(Document).where(Document.action_id == serve.id))
    assert (
        document.filename == "acte.pdf"
        and document.size == len(PDF)
        and document.uploaded_by.startswith("user:")
    )
    download = client.get(f"/portal/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert "Récemment terminées" in text(client.get("/portal/"))
    # The manager sees the document on the dossier page; partner2 cannot fetch it.
    assert "acte.pdf" in text(manager_client.get(f"/dossiers/{dossier.id}"))
    assert manager_client.get(f"/dossiers/{dossier.id}/documents/{document.id}").data == PDF
    login(client, users["partner2"])
    assert client.get(f"/portal/documents/{document.id}").status_code == 404
    assert client.get(f"/portal/actions/{serve.id}").status_code == 404


def test_upload_limits(client, session, world, users):
    run = world["run"]
    call = open_action(session, run.id, "Call")
    from runtime.actions import complete_action

    complete_action(session, call.id, Actor(user_id=users["manager"].id), "done", "no_answer", None, START)
    session.commit()
    serve = open_action(session, run.id, "Serve")
    login(client, users["partner"])
    url = f"/portal/actions/{serve.id}/complete"

    def post(filename, data, files=None):
        return multipart(client, url, {"choice": "done:served"}, files or [(filename, data)])

    big = post("gros.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert big.status_code == 413 and "10 Mo" in text(big)
    assert post("virus.exe", b"MZ\x90\x00").status_code == 415
    fake = post("faux.pdf", b"<html>not a pdf</html>")
    assert fake.status_code == 415 and "n&#39;est pas un PDF valide" in text(fake)
    too_many = post(None, None, files=[(f"{i}.pdf", PDF) for i in range(4)])
    assert too_many.status_code == 400
    huge = post("enorme.pdf", b"%PDF-" + b"0" * (40 * 1024 * 1024))
    assert huge.status_code == 413
    session.expire_all()
    assert session.get(Action, serve.id).status == ActionStatus.OPEN  # nothing changed
    ok = post("note.txt", "Signifié le 3 mars.".encode())
    assert ok.status_code == 303


def test_forms_need_a_csrf_token(app, client, world, users):
    login(client, users["manager"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/dossiers/{world['dossier'].id}/events", data={"name": "paiement_recu"})
        assert refused.status_code == 400
        page = text(client.get(f"/dossiers/{world['dossier'].id}"))
        assert 'name="csrf_token"' in page
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        accepted = client.post(
            f"/dossiers/{world['dossier'].id}/events", data={"name": "paiement_recu", "csrf_token": token}
        )
        assert accepted.status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_analyst_reads_without_forms(client, world, users):
    login(client, users["analyst"])
    page = text(client.get(f"/dossiers/{world['dossier'].id}"))
    assert "Appeler le locataire" in page and 'name="choice"' not in page and "Lancer la séquence" not in page
    assert client.post(f"/dossiers/{world['dossier'].id}/events", data={"name": "x"}).status_code == 403


def test_launching_a_sequence_already_running_asks_first(client, session, world, users):
    """A second click on « Lancer » never makes a second run silently: the page asks, keeping the chosen
    holders, and launches again only when confirmed."""
    login(client, users["manager"])
    dossier, first = world["dossier"], world["run"]
    url = f"/dossiers/{dossier.id}"
    holders = {p.role_keys[0]: p.id for p in dossier.participants if p.role_keys}
    form = {
        "sequence": "rt_relance",
        "roles_given": "1",
        "role:gestionnaire": str(holders["gestionnaire"]),
        "role:commissaire_justice": str(holders["commissaire_justice"]),
    }
    asked = client.post(f"{url}/runs", data=form)
    page = text(asked)
    assert asked.status_code == 409
    assert "« Relance (test) » est déjà en cours sur ce dossier depuis le 02/03/2026" in page
    assert "Lancer une seconde fois ?" in page
    assert 'name="confirm" value="1"' in page and f'value="{holders["commissaire_justice"]}"' in page
    assert f'href="{url}' in page  # cancel: back to the dossier
    session.expire_all()
    assert [r.id for r in session.scalars(select(Run).where(Run.dossier_id == dossier.id))] == [first.id]
    confirmed = client.post(f"{url}/runs", data={**form, "confirm": "1"})
    assert confirmed.status_code == 303
    session.expire_all()
    runs = list(session.scalars(select(Run).where(Run.dossier_id == dossier.id)))
    assert len(runs) == 2 and all(r.status == RunStatus.RUNNING for r in runs)
