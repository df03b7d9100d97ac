"""Moving running dossiers to a new version of their sequence, on the demo library (SQLite and PostgreSQL).

S2 version 2 (tests/data/bpmn/s2_precontentieux_v2.bpmn) adds a step (« Vérifier le décompte » after the
mandate), replaces « Rechercher l'adresse » by « Enquêter sur l'adresse » (another id: a step removed) and
turns the 6-week wait into 2 months from the same service. Ten dossiers in different states are previewed,
then migrated; each one's open actions, holders, timers and history are checked."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bpmn.durations import METROPOLE
from bpmn.expressions import evaluate
from designer.services import publish_versions
from runtime.actors import Actor
from runtime.assignments import Assignment, Unheld
from runtime.check import check_all, check_assignments
from runtime.events import fire_timer
from runtime.models import Action, Participant, Run, Timer
from runtime.runs import set_role_holders
from runtime.timers import claim_batch
from tests.integration.test_designer_pages import login
from tests.integration.test_library import Library

V2 = Path(__file__).resolve().parent.parent / "data" / "bpmn" / "s2_precontentieux_v2.bpmn"
KEY = "precontentieux"


@pytest.fixture
def lib(client, users, session, clock):
    library = Library(client, users, session, clock)
    library.install()
    return library


def publish_v2(lib):
    lib.call("POST", "/sequences?replace=true", who="analyst", data=V2.read_bytes(),
             headers={"Content-Type": "application/xml"}, expect=200)
    publish_versions(lib.session, [KEY], lib.users["analyst"].id, lib.clock.now())
    lib.session.commit()


def migrate(lib, who="manager", expect=200, **body):
    body = {"from_version": 1, "to_version": 2, "dossiers": "all", "dry_run": False, **body}
    return lib.call("POST", f"/sequences/{KEY}/migrations", who=who, json=body, expect=expect)


def open_actions(lib, dossier):
    lib.session.expire_all()
    query = select(Action).where(Action.dossier_id == dossier["id"], Action.status == "open")
    return {a.id: (a.element_id, a.role, a.name) for a in lib.session.scalars(query)}


def run_row(lib, dossier) -> Run:
    lib.session.expire_all()
    return lib.session.scalars(select(Run).where(Run.dossier_id == dossier["id"]).order_by(Run.id)).all()[-1]


def silence_ccapex(lib, dossier):
    """The CCAPEX has no postal address: the letter referring the dossier fails, its action stays open."""
    participant = lib.session.get(Participant, dossier["people"]["ccapex"]["id"])
    participant.address, participant.email = None, None
    lib.session.commit()


def six_weeks_started(lib, dossier, guarantor=True):
    lib.do(dossier, "Mandater_commissaire", days=1)
    served = lib.do(dossier, "Signifier_commandement", "served", who="partner", days=2)
    if guarantor:
        lib.do(dossier, "Signifier_caution", who="partner", days=1)
    return served["action"]["completed_at"]


def due_of(completed_at: str, delay: str):
    names = {"actions": {"Signifier_commandement": {"completed_at": completed_at}}, "dossier": {},
             "status": None, "outcome": None, "event": None}
    text = f'add_duration(actions["Signifier_commandement"].completed_at, "{delay}", "legal")'
    return evaluate(text, names, None, METROPOLE)


@pytest.fixture
def ten(lib):
    """Ten dossiers on S2 version 1, each waiting somewhere else."""
    names = ["mandate", "bailiff", "lost", "lost_mapped", "guarantor", "wait", "payment", "failed_letter",
             "private", "fired"]
    private = {"private": {"landlord_kind": "personne_physique"}}
    d = {name: lib.case(f"IMP-{i}", **private.get(name, {})) for i, name in enumerate(names)}
    d["done"] = lib.case("IMP-done")
    for dossier in d.values():
        lib.start(dossier, KEY)
    silence_ccapex(lib, d["failed_letter"])  # after the launch, which would have said so
    lib.do(d["bailiff"], "Mandater_commissaire")
    for name in ("lost", "lost_mapped"):
        lib.do(d[name], "Mandater_commissaire")
        lib.do(d[name], "Signifier_commandement", "not_found", who="partner")
    lib.do(d["guarantor"], "Mandater_commissaire")
    lib.do(d["guarantor"], "Signifier_commandement", "served", who="partner")
    served = {name: six_weeks_started(lib, d[name]) for name in ("wait", "payment", "fired", "failed_letter")}
    lib.event(d["payment"], "paiement_recu", {"montant": 200})
    lib.do(d["private"], "Mandater_commissaire")
    lib.do(d["private"], "Signifier_commandement", "served", who="partner")
    lib.do(d["done"], "Mandater_commissaire")
    lib.do(d["done"], "Signifier_commandement", "served", who="partner")
    lib.do(d["done"], "Signifier_caution", who="partner")
    lib.event(d["done"], "paiement_recu", {"montant": 1300})
    lib.do(d["done"], "Rapprocher_paiement", "settled")
    assert run_row(lib, d["done"]).status == "completed"
    lib.clock.advance(days=20)  # the 6 weeks started about 20 days ago
    return d, served


def test_preview_then_migrate_ten_dossiers_of_s2(lib, ten, session):
    d, served = ten
    publish_v2(lib)
    before = {name: open_actions(lib, dossier) for name, dossier in d.items()}
    holders_before = {n: lib.holders(lib.current(dossier)) for n, dossier in d.items() if n != "done"}
    wait_timer = lib.timer(d["wait"], "Six_semaines")
    assert wait_timer.due_at == due_of(served["wait"], "P6W")
    history_before = len(lib.history(d["wait"]["id"]))

    # Plan: every waiting point of v1 with its dossiers; the removed step has no counterpart.
    plan = lib.call("POST", f"/sequences/{KEY}/migrations/plan", json={"from_version": 1, "to_version": 2})
    points = {p["element_id"]: p for p in plan["waits"]}
    assert points["Rechercher_adresse"]["target"] is None and points["Rechercher_adresse"]["dossiers"] == 2
    assert points["Signifier_commandement"]["target"] == "Signifier_commandement"
    assert points["Attente"]["dossiers"] == 2  # wait, fired (payment waits at the reconciliation)
    assert [p["element_id"] for p in plan["unmapped"]] == ["Rechercher_adresse"]

    # Preview on the real engine: nothing changes.
    preview = {r["dossier_id"]: r for r in migrate(lib, dry_run=True)}
    by_name = {name: preview.get(dossier["id"]) for name, dossier in d.items()}
    assert by_name["done"] is None  # its run has ended
    assert {n: r["status"] for n, r in by_name.items() if r} == {
        **{n: "would_migrate" for n in d if n not in ("lost", "lost_mapped", "done")},
        "lost": "left_out", "lost_mapped": "left_out",
    }
    assert "Rechercher_adresse" in by_name["lost"]["reason"] and "équivalent" in by_name["lost"]["reason"]
    [timer] = by_name["wait"]["timers"]
    assert timer["element_id"] == "Six_semaines"
    assert timer["due_at"] == due_of(served["wait"], "P2M").isoformat()
    assert timer["previous_due_at"] == due_of(served["wait"], "P6W").isoformat()
    assert {a["id"] for a in by_name["bailiff"]["actions"]["kept"]} == set(before["bailiff"])
    assert by_name["bailiff"]["actions"]["cancelled"] == by_name["bailiff"]["actions"]["created"] == []
    session.expire_all()
    assert run_row(lib, d["wait"]).version.number == 1
    assert lib.timer(d["wait"], "Six_semaines").due_at == due_of(served["wait"], "P6W")
    assert len(lib.history(d["wait"]["id"])) == history_before
    assert {n: open_actions(lib, dossier) for n, dossier in d.items()} == before

    # Between the preview and the execution, the timer of one dossier fires: it goes to S3, left out.
    lib.fire(d["fired"], "Six_semaines")
    chosen = [dossier["id"] for name, dossier in d.items() if by_name[name] and by_name[name]["status"] !=
              "left_out"]
    done = {r["dossier_id"]: r for r in migrate(lib, dossiers=chosen)}
    result = {name: done.get(dossier["id"]) for name, dossier in d.items()}
    assert result["fired"]["status"] == "left_out" and "version 1" in result["fired"]["reason"]
    migrated = [n for n, r in result.items() if r and r["status"] == "migrated"]
    assert sorted(migrated) == sorted(["mandate", "bailiff", "guarantor", "wait", "payment", "failed_letter",
                                       "private"])

    for name in migrated:
        run = run_row(lib, d[name])
        assert run.version.number == 2, name
        # Same open actions: same ids, roles, names; same holders.
        assert open_actions(lib, d[name]) == before[name], name
        assert lib.holders(lib.current(d[name])) == holders_before[name], name
        [entry] = [e for e in lib.history(d[name]["id"]) if e["kind"] == "run_migrated"]
        assert entry["actor"] == f"user:{lib.users['manager'].id}"
        assert (entry["data"]["from_version"], entry["data"]["to_version"]) == (1, 2)
        assert set(entry["data"]["mapping"]) == set(run.active_elements), name
    # The bailiff keeps their action, in their portal.
    [serve] = before["bailiff"]
    assert lib.call("GET", "/actions?mine=true&status=open", who="partner")
    assert serve in {a["id"] for a in lib.call("GET", "/actions?mine=true&status=open", who="partner")}
    # The wait now ends 2 months after the service, not 2 months from now; the same timer row.
    moved = lib.timer(d["wait"], "Six_semaines")
    assert moved.id == wait_timer.id and moved.due_at == due_of(served["wait"], "P2M")
    rescheduled = [e for e in lib.history(d["wait"]["id"]) if e["kind"] == "timer_rescheduled"]
    assert [e["data"]["due_at"] for e in rescheduled] == [due_of(served["wait"], "P2M").isoformat()]
    # The failed letter stays open, for a manager to decide.
    assert [e for (e, _r, _n) in open_actions(lib, d["failed_letter"]).values()] == ["Saisine_ccapex"]
    # The step added by v2 comes next for the dossier waiting at the mandate.
    lib.do(d["mandate"], "Mandater_commissaire")
    assert [e for (e, _r, _n) in open_actions(lib, d["mandate"]).values()] == ["Verifier_decompte"]
    # The payment being matched goes back to the new 2-month wait.
    lib.do(d["payment"], "Rapprocher_paiement", "partial")
    assert lib.timer(d["payment"], "Six_semaines").due_at == due_of(served["payment"], "P2M")
    # Not migrated: still on v1, untouched.
    assert run_row(lib, d["lost"]).version.number == 1
    assert open_actions(lib, d["lost"]) == before["lost"]

    # The removed step mapped by hand, for one dossier: its action is kept, and is now the new step.
    [report] = migrate(lib, dossiers=[d["lost_mapped"]["id"]],
                       mapping={"Rechercher_adresse": "Enqueter_adresse"})
    assert report["status"] == "migrated"
    [(action_id, (element, role, name))] = open_actions(lib, d["lost_mapped"]).items()
    assert action_id in before["lost_mapped"] and element == "Enqueter_adresse" and role == "gestionnaire"
    assert name == "Enquêter sur l'adresse du locataire"
    [entry] = [e for e in lib.history(d["lost_mapped"]["id"]) if e["kind"] == "run_migrated"]
    assert entry["data"]["mapping"] == {"Rechercher_adresse": "Enqueter_adresse"}
    # Histories, runs, actions and timers still agree (`sequences check`), every run reloading on its version.
    assert check_all(session, deep=True) == []


def test_a_migrated_dossier_moves_back_to_its_last_step_before_the_migration(lib, ten):
    d, served = ten
    publish_v2(lib)
    dossier = d["wait"]
    [report] = migrate(lib, dossiers=[dossier["id"]])
    assert report["status"] == "migrated"
    step_before = report["step_before"]
    run = run_row(lib, dossier)
    assert run.version.number == 2 and run.step == step_before + 1
    lib.call("POST", f"/runs/{run.id}/back", json={"step": step_before, "reason": "migration prématurée"},
             expect=200)
    run = run_row(lib, dossier)
    assert run.version.number == 1 and run.status == "running"
    assert lib.timer(dossier, "Six_semaines").due_at == due_of(served["wait"], "P6W")
    kinds = [e["kind"] for e in lib.history(dossier["id"])]
    assert kinds.count("run_migrated") == 2 and "run_moved_back" in kinds
    # And the dossier goes on on version 1: its timer fires into S3.
    lib.fire(dossier, "Six_semaines")
    lib.switched_to(dossier, {"id": run.id}, "contentieux")
    assert check_all(lib.session, deep=True) == []


def test_only_managers_and_admins_migrate_and_bad_input_names_the_field(lib, ten):
    publish_v2(lib)
    assert migrate(lib, who="analyst", expect=403)["error"] == "forbidden"
    assert migrate(lib, who="partner", expect=404)
    bad = migrate(lib, expect=422, mapping={"Rechercher_adresse": "Nulle_part"})
    assert bad["field"] == "mapping.Rechercher_adresse"
    bad = migrate(lib, expect=422, mapping={"Mandater_commissaire": "Attente"})
    assert bad["error"] == "incompatible_elements"
    assert migrate(lib, expect=400, dossiers="some")["field"] == "dossiers"
    assert migrate(lib, expect=404, to_version=7)["error"] == "not_found"
    assert migrate(lib, expect=422, to_version=1)["error"] == "same_version"
    assert migrate(lib, expect=400, dossiers=[2**40])["field"] == "dossiers"
    assert migrate(lib, expect=400, mapping={"a\x00": "b"})["error"] == "malformed"  # refused for all JSON
    assert lib.call("POST", "/sequences/nothing/migrations", json={"from_version": 1, "to_version": 2},
                    expect=404)["error"] == "not_found"
    assert lib.call("POST", f"/sequences/{KEY}/migrations", json={"to_version": 2}, expect=400)
    session = lib.session
    session.expire_all()
    assert {r.version.number for r in session.scalars(select(Run))} == {1}
    assert session.scalar(select(Timer).where(Timer.due_at > lib.clock.now() + timedelta(days=400))) is None


def test_a_timer_claimed_by_a_worker_before_its_delay_was_lengthened_does_not_fire(lib, ten):
    """The worker claimed the 6-week timer when it came due; the migration to 2 months ran before the worker
    fired it: the worker finds it no longer due, and it fires once, at its new date."""
    d, served = ten
    dossier = d["wait"]
    timer = lib.timer(dossier, "Six_semaines")
    lib.clock.at = timer.due_at
    assert timer.id in claim_batch(lib.session, "worker-1", lib.clock.now())
    lib.session.commit()
    publish_v2(lib)
    [report] = migrate(lib, dossiers=[dossier["id"]])
    assert report["status"] == "migrated"
    assert fire_timer(lib.session, timer.id, lib.clock.now(), only_if_due=True) is False
    lib.session.commit()
    assert "timer_fired" not in [e["kind"] for e in lib.history(dossier["id"])]
    lib.fire(dossier, "Six_semaines")  # at its new date
    assert lib.clock.now() == due_of(served["wait"], "P2M")
    assert [e["kind"] for e in lib.history(dossier["id"])].count("timer_fired") == 1


def test_the_pages_plan_preview_and_migrate(lib, ten, client):
    d, served = ten
    publish_v2(lib)
    login(client, "manager")
    version = client.get(f"/designer/sequences/{KEY}/versions/1").get_data(as_text=True)
    assert "Migrer des dossiers" in version and "10 dossier(s) en cours sur cette version" in version
    plan = client.get(f"/designer/sequences/{KEY}/versions/1/migrate").get_data(as_text=True)
    assert "Rechercher l&#39;adresse du locataire" in plan and "Pas d’équivalent" in plan
    form = {"to": "2", "step": "preview", "map:Rechercher_adresse": "Enqueter_adresse"}
    preview = client.post(f"/designer/sequences/{KEY}/versions/1/migrate", data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Sera migré : 10" in text
    assert run_row(lib, d["lost"]).version.number == 1
    form = {**form, "step": "execute", "dossier": [str(d["lost"]["id"]), str(d["wait"]["id"])]}
    done = client.post(f"/designer/sequences/{KEY}/versions/1/migrate", data=form).get_data(as_text=True)
    assert "Migré : 2" in done
    assert run_row(lib, d["lost"]).version.number == 2 and run_row(lib, d["mandate"]).version.number == 1
    login(client, "analyst")
    assert client.get(f"/designer/sequences/{KEY}/versions/1/migrate").status_code == 403


def test_an_action_completed_while_the_migration_waits_is_migrated_after_it(lib, ten, app):
    """A completion holds the dossier's lock when the migration reaches that dossier: the migration waits for
    it, then moves the run as the completion left it — the completed action stays done, nothing twice."""
    import threading

    from sqlalchemy.orm import Session

    from runtime.actions import complete_action
    from runtime.actors import Actor
    from runtime.migrations import migrate_runs
    from web.extensions import db

    d, _served = ten
    publish_v2(lib)
    dossier = d["mandate"]
    [mandate] = open_actions(lib, dossier)
    manager = Actor(user_id=lib.users["manager"].id)
    lib.session.rollback()  # this test's own session holds nothing (SQLite: no write lock)
    reports = []

    def migration():
        with app.app_context():
            reports.extend(migrate_runs(db.session, KEY, manager, lib.clock.now, from_version=1, to_version=2,
                                        dossiers=[dossier["id"]]))

    with Session(db.engine) as other:
        complete_action(other, mandate, manager, "done", None, None, lib.clock.now())  # holds the lock
        thread = threading.Thread(target=migration)
        thread.start()
        thread.join(timeout=0.5)  # not a wait for time to pass: the migration must be blocked by the lock
        assert thread.is_alive() and reports == []
        other.commit()
    thread.join(timeout=60)
    [report] = reports
    assert report["status"] == "migrated" and report["waits_before"] == ["Signifier_commandement"]
    assert run_row(lib, dossier).version.number == 2
    assert [e for (e, _r, _n) in open_actions(lib, dossier).values()] == ["Signifier_commandement"]
    kinds = [e["kind"] for e in lib.history(dossier["id"])]
    assert kinds.count("action_completed") == 1
    assert kinds.index("action_completed") < kinds.index("run_migrated")


def test_the_command_line_previews_then_migrates(lib, ten, app):
    from web.cli import migrate as migrate_command

    d, served = ten
    publish_v2(lib)
    runner = app.test_cli_runner()
    lib.session.rollback()
    preview = runner.invoke(migrate_command, [KEY, "--from", "1", "--to", "2", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    left_out = f"dossier {d['lost']['id']}: left_out — « Rechercher_adresse » n'a pas d'équivalent"
    assert left_out in preview.output
    assert "8 would_migrate" in preview.output and "2 left_out" in preview.output
    assert run_row(lib, d["wait"]).version.number == 1
    lib.session.rollback()
    done = runner.invoke(migrate_command, [KEY, "--from", "1", "--to", "2", "--dossier", str(d["wait"]["id"]),
                                           "--map", "Rechercher_adresse=Enqueter_adresse", "--by",
                                           "manager@example.test"])
    assert done.exit_code == 0, done.output
    assert f"dossier {d['wait']['id']}: migrated" in done.output and "1 migrated" in done.output
    assert due_of(served["wait"], "P2M").isoformat() in done.output
    [entry] = [e for e in lib.history(d["wait"]["id"]) if e["kind"] == "run_migrated"]
    assert entry["actor"] == f"user:{lib.users['manager'].id}"
    bad = runner.invoke(migrate_command, [KEY, "--from", "1", "--to", "2", "--map", "nothing"])
    assert bad.exit_code != 0 and "SOURCE=CIBLE" in bad.output


def test_a_migration_giving_a_role_its_default_holders_moves_its_open_actions_to_them(lib, ten):
    """The bailiff's mandate (« gestionnaire ») left with nobody holding its role: the migration gives the
    role the dossier's default holder, and the open action leaves « Sans titulaire » for their inbox."""
    d, _served = ten
    dossier = d["mandate"]
    run = lib.current(dossier)
    [(action_id, (_element, role, _name))] = open_actions(lib, dossier).items()
    manager = Actor(user_id=lib.users["manager"].id)
    set_role_holders(lib.session, run["id"], manager, role, [], lib.clock.now())
    lib.session.commit()
    assert lib.session.get(Unheld, action_id) is not None
    publish_v2(lib)

    [report] = [r for r in migrate(lib) if r["dossier_id"] == dossier["id"]]
    assert report["status"] == "migrated", report
    lib.session.expire_all()
    assert lib.holders(lib.current(dossier))[role] == [dossier["people"]["manager"]["id"]]
    assert lib.session.get(Unheld, action_id) is None
    users = lib.session.scalars(select(Assignment.user_id).where(Assignment.action_id == action_id)).all()
    assert users == [lib.users["manager"].id]
    assert check_assignments(lib.session) == []
