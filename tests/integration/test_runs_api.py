"""Scenario tests of runs through the API, on SQLite and PostgreSQL."""

import pytest

from tests.integration.pilot import Pilot


@pytest.fixture
def pilot(client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_sub", "rt_plan", "rt_relance")
    return pilot


@pytest.fixture
def dossier(pilot):
    dossier = pilot.dossier("D-1", {"balance": 1200})
    pilot.participant(
        dossier["id"], "internal", "Gestionnaire", ["gestionnaire", "comptable"], user="manager"
    )
    pilot.participant(dossier["id"], "partner", "Maître Huissier", ["commissaire_justice"], user="partner")
    pilot.participant(dossier["id"], "contact", "Locataire", [], email="t@example.test")
    return dossier


def kinds(history):
    return [e["kind"] for e in history]


def test_launch_refuses_a_role_without_holder_unless_allowed(pilot):
    dossier = pilot.dossier("D-2")
    refused = pilot.launch(dossier["id"], "rt_relance", expect=422)
    assert refused["error"] == "unassigned_roles"
    assert refused["roles"] == ["commissaire_justice", "gestionnaire"]
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["runs"] == []
    run = pilot.launch(dossier["id"], "rt_relance", allow_unassigned=True)
    assert run["unassigned_roles"] == ["commissaire_justice", "gestionnaire"]
    assert run["open_actions"][0]["unassigned"] is True


def test_paid_outcome_ends_the_run_and_everything_is_in_history(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    assert run["status"] == "running" and run["version"] == 1
    call = pilot.only_action(run["id"], "Call")
    assert call["type"] == "task" and call["role"] == "gestionnaire"
    assert [a["name"] for a in call["assignees"]] == ["Gestionnaire"]
    assert call["outcomes"] == ["paid", "promise", "no_answer"]
    assert call["due_at"].startswith("2026-03-10")
    answer = pilot.complete(call["id"], "done", "paid", comment="Virement reçu")
    assert answer["action"]["status"] == "done" and answer["action"]["outcome"] == "paid"
    assert answer["next_actions"] == []
    assert answer["run"]["status"] == "completed"
    history = pilot.history(dossier["id"])
    assert kinds(history)[-4:] == ["run_launched", "action_created", "action_completed", "run_completed"]
    completed = history[-2]
    assert completed["actor"] == f"user:{pilot.users['manager'].id}"
    assert completed["data"]["comment"] == "Virement reçu" and completed["data"]["outcome"] == "paid"


def test_wrong_status_or_outcome_is_422_and_a_second_completion_409(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    call = pilot.only_action(run["id"], "Call")
    assert pilot.complete(call["id"], "validated", expect=422)["error"] == "invalid_status"
    assert pilot.complete(call["id"], "done", "maybe", expect=422)["error"] == "invalid_outcome"
    pilot.complete(call["id"], "done", "paid")
    assert pilot.complete(call["id"], "done", "paid", expect=409)["error"] == "conflict"


def test_partner_sees_and_completes_only_their_actions(pilot, dossier, users):
    run = pilot.launch(dossier["id"], "rt_relance")
    call = pilot.only_action(run["id"], "Call")
    assert pilot.call("GET", "/actions?mine=true&status=open", who="partner") == []
    pilot.complete(call["id"], "done", "partner", expect=422)
    answer = pilot.complete(call["id"], "done", "no_answer")
    serve = answer["next_actions"][0]
    assert serve["element_id"] == "Serve" and serve["role"] == "commissaire_justice"
    mine = pilot.call("GET", "/actions?mine=true&status=open", who="partner")
    assert [a["id"] for a in mine] == [serve["id"]]
    # The partner sees nothing else: other actions, other partners' views, other endpoints.
    assert pilot.call("GET", "/actions", who="partner") == mine + []
    pilot.call("GET", f"/actions/{call['id']}", who="partner", expect=404)
    pilot.complete(call["id"], "done", who="partner", expect=404)
    pilot.call("GET", f"/actions/{serve['id']}", who="partner2", expect=404)
    pilot.complete(serve["id"], "done", who="partner2", expect=404)
    pilot.call("GET", f"/dossiers/{dossier['id']}", who="partner2", expect=404)
    pilot.call("GET", f"/runs/{run['id']}", who="partner", expect=404)
    pilot.call("GET", f"/dossiers/{dossier['id']}/history", who="partner", expect=404)
    assert pilot.call("GET", f"/dossiers/{dossier['id']}", who="partner", expect=200)["reference"] == "D-1"
    done = pilot.complete(serve["id"], "done", "served", who="partner")
    assert done["run"] == {"id": run["id"], "status": "completed"}
    assert done["action"]["completed_by"] == f"user:{users['partner'].id}"


def test_business_event_interrupts_the_waiting_action(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    pilot.complete(pilot.only_action(run["id"], "Call")["id"], "done", "no_answer")
    serve = pilot.only_action(run["id"], "Serve")
    assert pilot.run(run["id"])["waiting_events"] == ["paiement_recu"]
    delivered = pilot.call(
        "POST",
        f"/dossiers/{dossier['id']}/events",
        expect=202,
        json={"name": "paiement_recu", "data": {"amount": 1200}},
    )
    assert delivered == {"delivered_to": [run["id"]]}
    after = pilot.run(run["id"])
    assert after["status"] == "completed" and after["open_actions"] == []
    cancelled = pilot.call("GET", f"/actions/{serve['id']}")
    assert cancelled["status"] == "cancelled" and cancelled["completed_by"] == "system:event"
    assert "paiement_recu" in cancelled["cause"]
    # An event nobody waits for is still recorded.
    assert pilot.call(
        "POST", f"/dossiers/{dossier['id']}/events", json={"name": "paiement_recu"}, expect=202
    ) == {"delivered_to": []}
    events = [e for e in pilot.history(dossier["id"]) if e["kind"] == "event_received"]
    assert [e["data"]["delivered_to"] for e in events] == [[run["id"]], []]


def test_three_sequence_chain_carries_holders(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    answer = pilot.complete(pilot.only_action(run["id"], "Call")["id"], "done", "promise")
    old = pilot.run(run["id"])
    assert old["status"] == "switched" and old["next_run_id"]
    new = pilot.run(old["next_run_id"])
    assert new["sequence"] == "rt_plan" and new["previous_run_id"] == run["id"]
    assert new["started_by"] == "system:sequence"
    assert {r: [h["name"] for h in hs] for r, hs in new["roles"].items()}["gestionnaire"] == ["Gestionnaire"]
    assert answer["run"]["status"] == "switched"
    agree = pilot.only_action(new["id"], "Agree")
    assert agree["type"] == "validation"
    pilot.complete(agree["id"], "done", expect=422)
    pilot.complete(agree["id"], "validated")
    check = pilot.only_action(new["id"], "Check")  # inside the called sequence rt_sub
    assert check["type"] == "reminder" and check["role"] == "comptable"
    assert [a["name"] for a in check["assignees"]] == ["Gestionnaire"]
    assert pilot.complete(check["id"], "done")["run"]["status"] == "completed"
    assert "run_switched" in kinds(pilot.history(dossier["id"]))


def test_changing_a_holder_moves_open_actions_not_completed_ones(pilot, dossier, users):
    other = pilot.participant(dossier["id"], "partner", "Autre étude", [], user="partner2")
    run = pilot.launch(dossier["id"], "rt_relance")
    call = pilot.only_action(run["id"], "Call")
    pilot.complete(call["id"], "done", "no_answer")
    serve = pilot.only_action(run["id"], "Serve")
    pilot.call(
        "PUT",
        f"/runs/{run['id']}/roles/commissaire_justice",
        json={"participant_ids": [other["id"]]},
        expect=200,
    )
    moved = pilot.call("GET", f"/actions/{serve['id']}")
    assert [a["name"] for a in moved["assignees"]] == ["Autre étude"]
    assert pilot.call("GET", "/actions?mine=true", who="partner") == []
    assert [a["id"] for a in pilot.call("GET", "/actions?mine=true", who="partner2")] == [serve["id"]]
    assert pilot.call("GET", f"/actions/{call['id']}")["completed_by"] == f"user:{users['manager'].id}"
    change = [e for e in pilot.history(dossier["id"]) if e["kind"] == "role_changed"][0]
    assert change["data"]["holders"]["to"] == [other["id"]]


def test_interrupt_and_switch_cancel_open_actions_as_system(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    call = pilot.only_action(run["id"], "Call")
    pilot.call("POST", f"/runs/{run['id']}/interrupt", json={"reason": ""}, expect=400)
    stopped = pilot.call("POST", f"/runs/{run['id']}/interrupt", json={"reason": "Dossier soldé"}, expect=200)
    assert stopped["status"] == "interrupted" and stopped["end_reason"] == "Dossier soldé"
    cancelled = pilot.call("GET", f"/actions/{call['id']}")
    assert cancelled["status"] == "cancelled" and cancelled["completed_by"] == "system:interruption"
    pilot.complete(call["id"], "done", "paid", expect=409)

    second = pilot.launch(dossier["id"], "rt_relance")
    new = pilot.call(
        "POST", f"/runs/{second['id']}/switch", json={"sequence": "rt_plan", "reason": "Accord"}, expect=201
    )
    assert new["sequence"] == "rt_plan" and new["previous_run_id"] == second["id"]
    assert pilot.run(second["id"])["status"] == "switched"


def test_adhoc_action_skip_and_move_back(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    extra = pilot.call(
        "POST",
        f"/runs/{run['id']}/actions",
        expect=201,
        json={"name": "Appeler la CAF", "role": "gestionnaire"},
    )
    assert extra["adhoc"] is True
    call = pilot.only_action(run["id"], "Call")
    pilot.complete(extra["id"], "done")
    assert pilot.only_action(run["id"], "Call")["id"] == call["id"]  # the path did not change
    skipped = pilot.complete(call["id"], "skipped")  # routed like any result: the default flow
    serve = skipped["next_actions"][0]
    assert serve["element_id"] == "Serve"
    steps = pilot.call("GET", f"/runs/{run['id']}/steps")
    first = steps[0]["step"]
    back = pilot.call(
        "POST", f"/runs/{run['id']}/back", json={"step": first, "reason": "Erreur de saisie"}, expect=200
    )
    assert [a["element_id"] for a in back["open_actions"]] == ["Call"]
    assert pilot.call("GET", f"/actions/{serve['id']}")["status"] == "cancelled"
    history = kinds(pilot.history(dossier["id"]))
    assert "run_moved_back" in history and history.count("action_completed") == 2


def test_engine_failure_marks_the_run_failed_and_a_manager_retries(pilot, client, users):
    pilot.publish("rt_fragile")
    dossier = pilot.dossier("D-9", {"balance": "beaucoup"})
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_fragile")
    check = pilot.only_action(run["id"], "Check")
    answer = pilot.complete(check["id"], "done")
    assert answer["run"]["status"] == "failed" and answer["run"]["error"]
    assert pilot.call("GET", f"/actions/{check['id']}")["status"] == "done"
    pilot.call("POST", f"/runs/{run['id']}/retry", who="analyst", expect=403)
    # Fixing the field the failed rule reads takes the step again (issue #16): nothing is left to retry.
    pilot.call("PATCH", f"/dossiers/{dossier['id']}", json={"data": {"balance": 10}}, expect=200)
    assert pilot.run(run["id"])["status"] == "completed"
    pilot.call("POST", f"/runs/{run['id']}/retry", who="manager", expect=409)
    assert ["run_failed", "dossier_updated", "run_retried", "run_completed"] == [
        k
        for k in kinds(pilot.history(dossier["id"]))
        if k.startswith(("run_f", "run_r", "run_c", "dossier_u"))
    ]


def test_a_role_the_sequence_does_not_have_cannot_be_given(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_relance")
    refused = pilot.call("PUT", f"/runs/{run['id']}/roles/plombier", json={"participant_ids": []}, expect=422)
    assert refused["error"] == "unknown_role"


def test_inboxes_follow_the_holders(pilot, dossier, users, session, clock):
    from runtime.workspace import inbox

    def inbox_of(name):
        rows, counts = inbox(session, users[name].id, clock.now())
        return [action.element_id for action, _reference, _title in rows], counts["open"]

    other = pilot.participant(dossier["id"], "partner", "Autre étude", [], user="partner2")
    run = pilot.launch(dossier["id"], "rt_relance")
    assert inbox_of("manager") == (["Call"], 1)
    pilot.complete(pilot.only_action(run["id"], "Call")["id"], "done", "no_answer")
    assert inbox_of("manager") == ([], 0)
    assert inbox_of("partner") == (["Serve"], 1)
    pilot.call("PUT", f"/runs/{run['id']}/roles/commissaire_justice", json={"participant_ids": [other["id"]]},
               expect=200)
    assert inbox_of("partner") == ([], 0)
    assert inbox_of("partner2") == (["Serve"], 1)
    pilot.call("POST", f"/runs/{run['id']}/interrupt", json={"reason": "Soldé"}, expect=200)
    assert inbox_of("partner2") == ([], 0)


def test_a_terminate_end_cancels_the_other_open_actions(client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_terminate")
    dossier = pilot.dossier("D-X")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_terminate")
    a, b = pilot.only_action(run["id"], "A"), pilot.only_action(run["id"], "B")
    answer = pilot.complete(a["id"], "done")
    assert answer["run"]["status"] == "completed" and answer["run"]["open_actions"] == []
    cancelled = pilot.call("GET", f"/actions/{b['id']}")
    assert cancelled["status"] == "cancelled" and cancelled["completed_by"].startswith("system:")
    assert cancelled["cause"]


def test_a_sequence_already_running_is_launched_again_only_when_confirmed(pilot, dossier):
    first = pilot.launch(dossier["id"], "rt_relance")
    entries = len(pilot.history(dossier["id"]))
    refused = pilot.launch(dossier["id"], "rt_relance", expect=409)
    assert refused["error"] == "already_running" and refused["run_id"] == first["id"]
    assert refused["started_at"] == first["started_at"] and "Relance (test)" in refused["message"]
    assert [r["id"] for r in pilot.call("GET", f"/dossiers/{dossier['id']}")["runs"]] == [first["id"]]
    assert len(pilot.history(dossier["id"])) == entries  # nothing written
    second = pilot.launch(dossier["id"], "rt_relance", confirm=True)
    assert second["id"] != first["id"] and second["status"] == "running"
    # A launch by a sequence keeps its behaviour: rt_relance ends towards rt_plan (seq:next), running already.
    plan = pilot.launch(dossier["id"], "rt_plan")
    answer = pilot.complete(pilot.only_action(first["id"], "Call")["id"], "done", "promise")
    assert answer["run"]["status"] == "switched"
    assert pilot.run(pilot.run(first["id"])["next_run_id"])["sequence"] == "rt_plan"
    # A user's switch names the run it replaces: no confirmation either.
    switched = pilot.call(
        "POST", f"/runs/{second['id']}/switch", json={"sequence": "rt_plan", "reason": "Accord"}, expect=201
    )
    running = [r for r in pilot.call("GET", f"/dossiers/{dossier['id']}")["runs"] if r["status"] == "running"]
    assert {r["id"] for r in running} >= {plan["id"], switched["id"]}


def test_one_action_is_read_with_its_holders_in_one_statement(pilot, dossier, app):
    """GET one action, the API's lightest read: the token, then the action with its run's holders, in one
    statement that leaves the run's engine state unread."""
    from sqlalchemy import event

    from web.extensions import db

    run = pilot.launch(dossier["id"], "rt_relance")
    call = pilot.only_action(run["id"], "Call")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    engine = db.engine
    db.session.remove()  # as in a request of its own: nothing loaded yet
    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = pilot.call("GET", f"/actions/{call['id']}")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [a["name"] for a in answer["assignees"]] == ["Gestionnaire"] and answer["unassigned"] is False
    assert answer == call
    assert len(statements) == 2, statements
    assert "api_tokens" in statements[0] and "runs.state" not in statements[1]
