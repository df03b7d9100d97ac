"""Comment threads, documents shared with partners, notes added to an action without completing it, the
notification preferences page and the count of new actions, over HTTP. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from kernel.errors import NotFound
from runtime import comments, documents
from runtime.actors import Actor
from runtime.journal import JournalEntry
from runtime.models import ActionStatus
from runtime.notices import Comment, NotificationSetting
from tests.conftest import START
from tests.integration.test_workspace_pages import PDF, FreshClient, login, multipart, open_action, text
from tests.workspace_data import ensure_documents_table, publish, relance_dossier


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


@pytest.fixture
def both(world, session, users):
    """The partner's dossier with its « Serve » action open, and partner2's dossier."""
    from runtime.actions import complete_action

    run = world["run"]
    call = open_action(session, run.id, "Call")
    complete_action(session, call.id, Actor(user_id=users["manager"].id), "done", "no_answer", None, START)
    other, other_run = relance_dossier(session, users["manager"], users["partner2"], reference="D-other")
    session.commit()
    return {**world, "serve": open_action(session, run.id, "Serve"), "other": other, "other_run": other_run}


def kinds(session, dossier_id):
    return [
        e.kind
        for e in session.scalars(
            select(JournalEntry).where(JournalEntry.dossier_id == dossier_id).order_by(JournalEntry.id)
        )
    ]


def test_a_partner_adds_a_photo_and_a_message_without_completing(client, session, both, users):
    serve, dossier = both["serve"], both["dossier"]
    login(client, users["partner"])
    sent = multipart(
        client,
        f"/portal/actions/{serve.id}/notes",
        {"note": "Absent, avis déposé."},
        [("boite.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)],
    )
    assert sent.status_code == 303 and sent.location.endswith(f"/portal/actions/{serve.id}#thread")
    session.expire_all()
    assert session.get(type(serve), serve.id).status == ActionStatus.OPEN
    page = text(client.get(f"/portal/actions/{serve.id}"))
    assert "boite.png" in page and "Absent, avis déposé." in page and "Terminer l’action" in page
    assert kinds(session, dossier.id)[-2:] == ["comment_added", "document_added"]
    # The manager reads the partner's message on the dossier.
    login(client, users["manager"])
    tab = text(client.get(f"/dossiers/{dossier.id}?tab=documents"))
    assert "Absent, avis déposé." in tab and "boite.png" in tab and "Signifier le commandement" in tab


def test_a_refused_file_is_explained_and_the_message_kept(client, session, both, users):
    serve = both["serve"]
    login(client, users["partner"])
    refused = multipart(
        client,
        f"/portal/actions/{serve.id}/notes",
        {"note": "Voici le PV."},
        [("pv.pdf", PDF), ("virus.exe", b"MZ\x90\x00")],
    )
    assert refused.status_code == 415
    page = text(refused)
    assert "virus.exe" in page and "Voici le PV.</textarea>" in page and "choisissez de nouveau" in page
    assert session.scalars(select(Comment)).all() == []
    assert documents.documents_of(session, both["dossier"].id, [serve.id]) == []
    empty = multipart(client, f"/portal/actions/{serve.id}/notes", {"note": "  "}, [])
    assert empty.status_code == 400 and "Écrivez un message" in text(empty)


def test_another_partner_cannot_read_or_write_on_the_action(client, session, both, users):
    serve, dossier = both["serve"], both["dossier"]
    comments.add_comment(
        session, Actor(user_id=users["manager"].id), dossier.id, serve.id, "Pour vous.", START
    )
    document = documents.add_documents(
        session, dossier.id, Actor(user_id=users["manager"].id), [("bail.pdf", PDF)], START, shared=True
    )[0]
    session.commit()
    login(client, users["partner2"])
    assert client.get(f"/portal/actions/{serve.id}").status_code == 404
    assert client.get(f"/portal/documents/{document.id}").status_code == 404
    assert client.get(f"/portal/documents/{document.id}?preview=1").status_code == 404
    assert multipart(client, f"/portal/actions/{serve.id}/notes", {"note": "x"}, []).status_code == 404
    partner2 = Actor(user_id=users["partner2"].id, is_partner=True)
    with pytest.raises(NotFound):
        comments.add_comment(session, partner2, dossier.id, serve.id, "intrus", START)
    with pytest.raises(NotFound):
        comments.thread(session, dossier.id, partner2, action_id=serve.id)
    # A partner never writes on the dossier's own thread, even their own dossier's.
    with pytest.raises(NotFound):
        comments.add_comment(
            session, Actor(user_id=users["partner"].id, is_partner=True), dossier.id, None, "interne ?", START
        )
    # Their own partner sees the manager's message.
    login(client, users["partner"])
    assert "Pour vous." in text(client.get(f"/portal/actions/{serve.id}"))


def test_managers_choose_which_documents_partners_see(client, session, both, users):
    dossier, serve = both["dossier"], both["serve"]
    login(client, users["manager"])
    added = multipart(client, f"/dossiers/{dossier.id}/documents", {"shared": "1"}, [("bail.pdf", PDF)])
    assert added.status_code == 303
    multipart(client, f"/dossiers/{dossier.id}/documents", {}, [("interne.txt", b"interne")])
    shared, internal = documents.documents_of(session, dossier.id)
    assert documents.shared_ids(session, dossier.id) == {shared.id}
    login(client, users["partner"])
    page = text(client.get(f"/portal/actions/{serve.id}"))
    assert "bail.pdf" in page and "interne.txt" not in page
    assert client.get(f"/portal/documents/{shared.id}").data == PDF
    preview = client.get(f"/portal/documents/{shared.id}?preview=1")
    assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("inline")
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(f"/portal/documents/{internal.id}").status_code == 404
    # Unshared: gone for the partner.
    login(client, users["manager"])
    client.post(f"/dossiers/{dossier.id}/documents/{shared.id}/share", data={"shared": "0"})
    login(client, users["partner"])
    assert client.get(f"/portal/documents/{shared.id}").status_code == 404
    history = kinds(session, dossier.id)
    assert (
        history.count("document_added") == 2
        and "document_shared" in history
        and "document_unshared" in history
    )


def test_a_refused_upload_on_the_dossier_keeps_the_choice(client, session, both, users):
    dossier = both["dossier"]
    login(client, users["manager"])
    refused = multipart(
        client,
        f"/dossiers/{dossier.id}/documents",
        {"shared": "1"},
        [("bail.pdf", PDF), ("faux.pdf", b"<html>")],
    )
    assert refused.status_code == 415
    page = text(refused)
    assert "faux.pdf" in page and 'id="upload-shared" name="shared" value="1" checked' in page
    assert documents.documents_of(session, dossier.id) == []
    empty = client.post(f"/dossiers/{dossier.id}/comments", data={"comment": " ", "action_id": ""})
    assert empty.status_code == 400 and "Le commentaire est vide" in text(empty)
    assert (
        client.post(f"/dossiers/{dossier.id}/comments", data={"comment": "Note interne"}).status_code == 303
    )
    assert "Note interne" in text(client.get(f"/dossiers/{dossier.id}?tab=documents"))
    login(client, users["analyst"])  # reads, does not write
    assert client.post(f"/dossiers/{dossier.id}/comments", data={"comment": "x"}).status_code == 403


def test_the_navigation_counts_new_actions_until_they_are_looked_at(client, session, both, users):
    from runtime import notifications

    notifications.queue_due(session, START, notifications.Links("http://x.test"))  # announces what is open
    session.commit()
    from sqlalchemy import event

    statements = []
    def seen(_conn, _cursor, statement, *args):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        assert notifications.new_count(session, users["manager"].id) == 1  # « Appeler le locataire »
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    counted = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(counted) == 1  # the navigation's count is one statement
    login(client, users["manager"])
    page = text(client.get(f"/dossiers/{both['dossier'].id}"))
    assert 'class="count-badge new"' in page  # the manager's actions, never looked at
    client.get("/inbox/")
    assert 'class="count-badge new"' not in text(client.get(f"/dossiers/{both['dossier'].id}"))
    login(client, users["partner"])
    home = text(client.get("/portal/"))
    assert 'class="badge new"' in home  # marked on the visit that shows them
    assert 'class="badge new"' not in text(client.get("/portal/"))


def test_each_user_chooses_their_notifications(client, session, both, users):
    login(client, users["partner"])
    assert "Mes notifications" in text(client.get("/portal/profile"))
    assert client.post("/portal/profile", data={"frequency": "daily", "hour": "7"}).status_code == 303
    setting = session.get(NotificationSetting, users["partner"].id)
    assert (setting.frequency, setting.hour) == ("daily", 7)
    refused = client.post("/portal/profile", data={"frequency": "daily", "hour": "31"})
    assert refused.status_code == 422 and "entre 0 et 23" in text(refused)
    login(client, users["manager"])
    assert client.get("/portal/profile").status_code == 302  # internal users have theirs in the app
    assert client.post("/profile", data={"frequency": "none", "hour": "8"}).status_code == 303
    assert session.get(NotificationSetting, users["manager"].id).frequency == "none"


def test_admins_see_the_notification_emails_and_how_they_went(client, session, both, users):
    from runtime import notifications

    notifications.queue_due(session, START, notifications.Links("http://x.test"))
    session.commit()
    login(client, users["admin"])
    assert "/notifications" in text(client.get("/profile"))
    page = text(client.get("/notifications"))
    assert "partner@example.test" in page and "nouvelle action" in page and "en attente" in page
    login(client, users["manager"])
    assert client.get("/notifications").status_code == 403


def test_the_api_uploads_shares_and_comments(client, session, both, users):
    import io

    dossier, serve = both["dossier"], both["serve"]
    manager, partner, partner2 = (users[n].headers for n in ("manager", "partner", "partner2"))
    base = f"/api/v1/dossiers/{dossier.id}"
    sent = client.post(
        f"{base}/documents",
        headers=manager,
        content_type="multipart/form-data",
        data={"shared": "true", "files": (io.BytesIO(PDF), "bail.pdf")},
    )
    assert sent.status_code == 201, sent.get_json()
    [document] = sent.get_json()
    assert document["shared"] is True and document["filename"] == "bail.pdf"
    refused = client.post(
        f"{base}/documents",
        headers=manager,
        content_type="multipart/form-data",
        data={"files": (io.BytesIO(b"MZ"), "virus.exe")},
    )
    assert refused.status_code == 415 and "virus.exe" in refused.get_json()["message"]
    unshared = client.put(
        f"{base}/documents/{document['id']}/shared", headers=manager, json={"shared": False}
    )
    assert unshared.status_code == 200 and unshared.get_json()["shared"] is False
    assert [d["shared"] for d in client.get(f"{base}/documents", headers=manager).get_json()] == [False]
    # Partners comment on their own action only; the dossier's own thread is not theirs.
    said = client.post(f"/api/v1/actions/{serve.id}/comments", headers=partner, json={"body": "Signifié."})
    assert said.status_code == 201 and said.get_json()["by_partner"] is True
    assert (
        client.post(f"/api/v1/actions/{serve.id}/comments", headers=partner2, json={"body": "x"}).status_code
        == 404
    )
    assert client.get(f"/api/v1/actions/{serve.id}/comments", headers=partner2).status_code == 404
    assert client.get(f"{base}/comments", headers=partner).status_code == 404
    assert client.post(f"{base}/comments", headers=manager, json={"body": "Interne."}).status_code == 201
    thread = client.get(f"{base}/comments", headers=manager).get_json()
    assert [(c["body"], c["action_id"]) for c in thread] == [("Signifié.", serve.id), ("Interne.", None)]
    assert [
        c["body"] for c in client.get(f"/api/v1/actions/{serve.id}/comments", headers=partner).get_json()
    ] == ["Signifié."]
