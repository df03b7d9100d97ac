"""Two people at once: the same action (one wins, one gets 409), or two actions of one run (both applied)."""

import threading

import pytest

from tests.integration.pilot import Pilot


def _race(app, users, calls):
    """Runs each (path, body) in its own thread, released together; returns the status codes."""
    from web.extensions import db

    db.session.remove()  # the test's own session must not hold the database while the threads race
    barrier = threading.Barrier(len(calls))
    codes = [None] * len(calls)

    def worker(index, path, body):
        client = app.test_client()
        barrier.wait()
        codes[index] = client.post(f"/api/v1{path}", json=body, headers=users["manager"].headers).status_code

    threads = [threading.Thread(target=worker, args=(i, p, b)) for i, (p, b) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


@pytest.fixture
def parallel_run(app, client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_parallel")
    dossier = pilot.dossier("D-P")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_parallel")
    return pilot, dossier, run


@pytest.mark.parametrize("attempt", range(3))
def test_same_action_twice_at_once_one_wins(app, users, parallel_run, attempt):
    pilot, dossier, run = parallel_run
    a = pilot.only_action(run["id"], "A")
    body = {"status": "done"}
    codes = _race(app, users, [(f"/actions/{a['id']}/complete", body)] * 2)
    assert sorted(codes) == [200, 409]
    completions = [e for e in pilot.history(dossier["id"]) if e["kind"] == "action_completed"]
    assert len(completions) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_actions_of_one_run_at_once_both_applied(app, users, parallel_run, attempt):
    pilot, dossier, run = parallel_run
    a, b = pilot.only_action(run["id"], "A"), pilot.only_action(run["id"], "B")
    codes = _race(
        app,
        users,
        [
            (f"/actions/{a['id']}/complete", {"status": "done"}),
            (f"/actions/{b['id']}/complete", {"status": "done"}),
        ],
    )
    assert codes == [200, 200]
    # The join saw both: the next step is open, and nothing was lost.
    assert [x["element_id"] for x in pilot.open_actions(run["id"])] == ["C"]
