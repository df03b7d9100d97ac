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
    _assert_history_chained()


def _complete_in_process(url: str, token: str, action_id: int, start, results) -> None:
    from web import create_app

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "TESTING": True})
    client = app.test_client()
    start.wait(60)
    answer = client.post(
        f"/api/v1/actions/{action_id}/complete",
        json={"status": "done"},
        headers={"Authorization": f"Bearer {token}"},
    )
    results.put((action_id, answer.status_code))


@pytest.mark.parametrize("same_action", [True, False], ids=["same-action", "two-actions"])
def test_several_processes_on_postgresql(app, users, parallel_run, database_url, same_action):
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes race on PostgreSQL; SQLite is covered by threads above")
    import multiprocessing

    from web.extensions import db

    pilot, dossier, run = parallel_run
    a, b = pilot.only_action(run["id"], "A"), pilot.only_action(run["id"], "B")
    targets = [a["id"], a["id"], a["id"]] if same_action else [a["id"], b["id"]]
    db.session.remove()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=_complete_in_process, args=(database_url, users["manager"].token, target, start, results)
        )
        for target in targets
    ]
    for process in processes:
        process.start()
    start.set()
    codes = sorted(results.get(timeout=120)[1] for _ in processes)
    for process in processes:
        process.join(60)
    if same_action:
        assert codes == [200, 409, 409]
        completions = [e for e in pilot.history(dossier["id"]) if e["kind"] == "action_completed"]
        assert len(completions) == 1
    else:
        assert codes == [200, 200]
        assert [x["element_id"] for x in pilot.open_actions(run["id"])] == ["C"]
    _assert_history_chained()


def _assert_history_chained() -> None:
    """The second writer waited for the dossier's lock, then chained onto what the first one wrote."""
    from runtime.check import check_chains
    from web.extensions import db

    db.session.remove()  # afresh: a transaction the test left open would hold SQLite's write lock
    assert [str(p) for p in check_chains(db.session)] == []


@pytest.mark.parametrize("attempt", range(3))
def test_the_same_launch_twice_at_once_makes_one_run(app, client, users, attempt):
    """A double submit of the launch form: one run, the other launch asks for confirmation."""
    pilot = Pilot(client, users)
    pilot.publish("rt_parallel")
    dossier = pilot.dossier("D-L")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    path = f"/dossiers/{dossier['id']}/runs"
    codes = _race(app, users, [(path, {"sequence": "rt_parallel"})] * 2)
    assert sorted(codes) == [201, 409]
    assert len(pilot.call("GET", f"/dossiers/{dossier['id']}")["runs"]) == 1
