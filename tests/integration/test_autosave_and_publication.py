"""The editor's autosave kept in the draft history without flooding it; publishing with a release note and the
impact told first (dossiers in progress on earlier versions); the revision that adds both tables."""

from datetime import timedelta

import sqlalchemy as sa

from designer import drafts, services
from designer.models import SequenceDraft
from runtime.impact import publication_impact, running_dossiers_by_version
from tests.conftest import START
from tests.factories import bpmn, looping_run, xml_headers

RELANCE = bpmn("runtime/rt_relance.bpmn")


def version_of(n: int) -> bytes:
    return RELANCE.replace(b'seq:due="P8D"', f'seq:due="P{n}D"'.encode())


def autosave(client, account, data: bytes):
    answer = client.post(
        "/api/v1/sequences?replace=true&autosave=true", data=data, headers=xml_headers(account)
    )
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def save(client, account, data: bytes):
    answer = client.post("/api/v1/sequences?replace=true", data=data, headers=xml_headers(account))
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def history(session) -> list[tuple[str, bool]]:
    """(due date written in the entry, autosaved?) newest first."""
    session.expire_all()
    sequence = services.get_sequence(session, "rt_relance")
    found = []
    for entry in drafts.list_drafts(session, sequence, START + timedelta(days=1)):
        xml = session.get(SequenceDraft, entry.id).xml
        found.append((xml.split(b'seq:due="')[1].split(b'"')[0].decode(), entry.autosaved))
    return found


# --- autosave ----------------------------------------------------------------------------------------------


def test_autosaves_of_one_stretch_of_work_make_one_entry_and_never_replace_a_deliberate_save(
    client, users, session, clock
):
    analyst = users["analyst"]
    save(client, analyst, RELANCE)  # created on purpose: P8D
    for n in (9, 10, 11):  # three autosaves within a minute: one entry, following the work
        clock.advance(seconds=20)
        autosave(client, analyst, version_of(n))
    assert history(session) == [("P11D", True), ("P8D", False)]
    clock.advance(seconds=10)
    save(client, analyst, version_of(11))  # Ctrl+S of what was just autosaved: that entry is kept as is
    assert history(session) == [("P11D", False), ("P8D", False)]
    clock.advance(seconds=20)
    save(client, analyst, version_of(12))  # Ctrl+S: a new entry
    clock.advance(seconds=20)
    autosave(client, analyst, version_of(13))  # does not overwrite the deliberate save
    assert history(session) == [("P13D", True), ("P12D", False), ("P11D", False), ("P8D", False)]
    clock.advance(minutes=11)  # a new stretch of work: a new entry
    autosave(client, analyst, version_of(14))
    clock.advance(seconds=20)
    autosave(client, users["admin"], version_of(15))  # someone else's autosave never replaces another's
    assert [due for due, _auto in history(session)] == ["P15D", "P14D", "P13D", "P12D", "P11D", "P8D"]
    # the current draft is the last one saved, whatever saved it
    assert services.get_sequence(session, "rt_relance").draft_xml == version_of(15)


def test_an_autosave_of_a_new_sequence_is_an_ordinary_first_entry(client, users, session):
    autosave(client, users["analyst"], RELANCE)
    assert history(session) == [("P8D", False)]


def test_deleting_a_never_published_sequence_removes_its_autosaves(client, users, session, clock):
    save(client, users["analyst"], RELANCE)
    autosave(client, users["analyst"], version_of(9))
    assert client.delete("/api/v1/sequences/rt_relance", headers=users["analyst"].headers).status_code == 204
    assert session.execute(sa.text("SELECT count(*) FROM sequence_draft_autosaves")).scalar() == 0


# --- impact and release note -------------------------------------------------------------------------------


def test_impact_counts_dossiers_in_progress_per_version(client, users, session, clock):
    manager = users["manager"].id
    first = looping_run(session, manager, clock.now(), "IMP-1")
    looping_run(session, manager, clock.now(), "IMP-2", publish=False)
    assert running_dossiers_by_version(session, "rt_loop") == {1: 2}
    first.status = "interrupted"
    session.commit()
    assert running_dossiers_by_version(session, "rt_loop") == {1: 1}
    answer = client.get("/api/v1/sequences/rt_loop/impact", headers=users["analyst"].headers)
    assert answer.status_code == 200
    assert answer.get_json() == {
        "key": "rt_loop",
        "next_version": 2,
        "dossiers": 1,
        "running": [{"version": 1, "dossiers": 1}],
    }
    assert publication_impact(session, "rt_loop").dossiers == 1
    assert client.get("/api/v1/sequences/nothing/impact", headers=users["analyst"].headers).status_code == 404


def test_a_release_note_is_kept_with_the_version_and_shown_on_its_page(client, users, session):
    from tests.integration.test_designer_pages import login

    analyst = users["analyst"]
    save(client, analyst, bpmn("runtime/rt_sub.bpmn"))
    url = "/api/v1/sequences/rt_sub/publish"
    long = client.post(url, json={"note": "x" * 5001}, headers=analyst.headers)
    assert long.status_code == 400 and "« note »" in long.get_json()["message"]
    wrong = client.post(url, json={"note": 3}, headers=analyst.headers)
    assert wrong.status_code == 400 and "« note »" in wrong.get_json()["message"]
    assert services.get_sequence(session, "rt_sub").latest is None  # nothing half-written
    answer = client.post(url, json={"note": "  Délai porté à 3 semaines.  "}, headers=analyst.headers)
    assert answer.status_code == 201, answer.get_json()
    version = services.latest_version(session, "rt_sub")
    assert services.release_notes(session, [version.id]) == {version.id: "Délai porté à 3 semaines."}
    # publishing without a body still works (the API's clients and the command line)
    save(client, analyst, RELANCE)
    login(client, "analyst")
    page = client.get("/designer/sequences/rt_sub/versions/1").get_data(as_text=True)
    assert 'id="release-note"' in page and "Délai porté à 3 semaines." in page


# --- the revision ------------------------------------------------------------------------------------------

PREVIOUS = "3c9d2e8f1a6b"


# a database of its own, at the previous revision (SQLite, and PostgreSQL when it answers)


def test_upgrade_keeps_drafts_and_versions_and_adds_autosaves_and_notes(empty_url):
    from flask_migrate import upgrade

    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "SECRET_KEY": "t"}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            assert "sequence_version_notes" not in tables and "sequence_draft_autosaves" not in tables
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, name, kind, role, password_hash, active, created_at) "
                    "VALUES (1, 'a@example.test', 'Nadia', 'internal', 'analyst', 'x', :t, :at)"
                ),
                {"t": True, "at": START},
            )
        # drafts and a published version written before the revision
        services.save_draft(db.session, RELANCE, 1, START)
        services.save_draft(db.session, bpmn("runtime/rt_sub.bpmn"), 1, START)
        services.publish_version(db.session, "rt_sub", 1, START)
        db.session.commit()
        db.session.remove()
        upgrade()
        services.save_draft(
            db.session, version_of(9), 1, START + timedelta(minutes=1), replace=True, autosave=True
        )
        services.save_draft(
            db.session,
            bpmn("runtime/rt_sub.bpmn").replace(b"</bpmn:process>", b"</bpmn:process>\n"),
            1,
            START,
            replace=True,
        )
        version = services.publish_version(
            db.session, "rt_sub", 1, START + timedelta(minutes=2), note="Deuxième version"
        )
        db.session.commit()
        assert version.number == 2
        assert services.release_notes(db.session, [version.id]) == {version.id: "Deuxième version"}
        sequence = services.get_sequence(db.session, "rt_relance")
        listed = drafts.list_drafts(db.session, sequence, START)
        assert [(d.saved_by, d.autosaved) for d in listed] == [("Nadia", True), ("Nadia", False)]
        db.session.remove()
        db.engine.dispose()
