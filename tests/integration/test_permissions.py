"""Who may do what through the API, as a matrix, generated from the route table so that a new API route
cannot skip it."""

import re

import pytest

from web.permissions import Perm, allows

ACCOUNTS = ["admin", "analyst", "manager", "partner"]
OUTSIDE_THE_MATRIX = {"api.spec", "api.docs", "openapi.spec", "openapi.docs", "openapi.redoc"}


def api_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in OUTSIDE_THE_MATRIX:
            continue
        if rule.rule in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def concrete(rule) -> str:
    path = re.sub(r"<int:[^>]+>", "999999", rule.rule)
    return re.sub(r"<[^>]+>", "nope", path)


def test_every_api_route_names_its_permission(app):
    missing = [
        (m, r.rule) for m, r in api_routes(app) if not hasattr(app.view_functions[r.endpoint], "permission")
    ]
    assert missing == []
    assert len(list(api_routes(app))) >= 25


def test_the_matrix(app, users):
    client = app.test_client()
    checked = 0
    for method, rule in api_routes(app):
        perm: Perm = app.view_functions[rule.endpoint].permission
        path = concrete(rule)
        anonymous = client.open(path, method=method, json={})
        assert anonymous.status_code == 401, (method, path)
        for name in ACCOUNTS:
            account = users[name]
            answer = client.open(path, method=method, json={}, headers=account.headers)
            if allows(account.user, perm):
                assert answer.status_code not in (401, 403), (name, method, path, answer.status_code)
                assert answer.status_code < 500, (name, method, path, answer.get_json())
            elif account.user.is_partner:
                assert answer.status_code == 404, (name, method, path, answer.status_code)
            else:
                assert answer.status_code == 403, (name, method, path, answer.status_code)
            checked += 1
    assert checked >= 100


@pytest.mark.parametrize(
    ("perm", "roles"),
    [
        (Perm.ADMIN, {"admin"}),
        (Perm.SEQUENCES_WRITE, {"admin", "analyst"}),
        (Perm.SEQUENCES_READ, {"admin", "analyst", "manager"}),
        (Perm.DOSSIERS_WRITE, {"admin", "manager"}),
        (Perm.DOSSIERS_READ, {"admin", "analyst", "manager"}),
        (Perm.RUNS_PILOT, {"admin", "manager"}),
        (Perm.ACTIONS_ANY, {"admin", "manager"}),
        (Perm.ACTIONS_OWN, {"admin", "manager", "partner"}),
    ],
)
def test_spec_table(app, users, perm, roles):
    assert {name for name in ACCOUNTS if allows(users[name].user, perm)} == roles


def test_a_deactivated_account_is_refused(app, users, session):
    from kernel.accounts import User

    session.get(User, users["manager"].id).active = False
    session.commit()
    answer = app.test_client().get("/api/v1/dossiers", headers=users["manager"].headers)
    assert answer.status_code == 401


# How each kind of user may end an action (SPEC §2, §4): managers and admins with any status the action's
# type allows, partners only by completing their own action, analysts not at all.
ALLOWED_ENDINGS = {
    "task": {"done", "cancelled", "skipped"},
    "validation": {"validated", "cancelled", "skipped"},
}
COMPLETIONS = {"task": "done", "validation": "validated"}


def expected_answer(who: str, kind: str, status: str) -> tuple[int, str | None]:
    if who == "analyst":
        return 403, "forbidden"
    if status not in ALLOWED_ENDINGS[kind]:
        return 422, "invalid_status"
    if who == "partner" and status != COMPLETIONS[kind]:
        return 403, "forbidden_status"
    return 200, None


@pytest.mark.parametrize("who", ACCOUNTS)
def test_who_may_end_an_action_with_which_status(client, users, who):
    """Status × kind of user, through the API, for a task and a validation held by the partner."""
    from tests.integration.pilot import Pilot

    pilot = Pilot(client, users)
    pilot.publish("rt_partner")
    for status in ["done", "validated", "cancelled", "skipped"]:
        dossier = pilot.dossier(f"ST-{status}")
        pilot.participant(dossier["id"], "partner", "Me P", ["commissaire_justice"], user="partner")
        run = pilot.launch(dossier["id"], "rt_partner")
        for kind, element in [("task", "Signifier"), ("validation", "Valider")]:
            action = pilot.only_action(run["id"], element)
            assert action["allowed_statuses"] == sorted(ALLOWED_ENDINGS[kind])
            code, error = expected_answer(who, kind, status)
            answer = pilot.complete(action["id"], status, who=who, expect=code)
            where = (who, kind, status)
            if error:
                assert answer["error"] == error, (where, answer)
                assert action["id"] in [a["id"] for a in pilot.open_actions(run["id"])], where
            else:
                assert answer["action"]["status"] == status, where
    if who == "partner":
        # What the partner is offered is what the service lets them do.
        seen = pilot.call("GET", "/actions?status=open", who="partner", expect=200)
        offered = {a["type"]: a["allowed_statuses"] for a in seen}
        assert offered == {"task": ["done"], "validation": ["validated"]}


@pytest.mark.parametrize("status", ["done", "validated", "cancelled", "skipped"])
def test_the_portal_form_offers_and_accepts_only_completion(app, client, users, status):
    """The same rule through the partner's portal: the page offers what the service allows, and a status
    forged into the form is refused by the service, the action left open."""
    from tests.integration.pilot import Pilot
    from tests.integration.test_pages_matrix import login

    pilot = Pilot(client, users)
    pilot.publish("rt_partner")
    dossier = pilot.dossier("PORTAL-1")
    pilot.participant(dossier["id"], "partner", "Me P", ["commissaire_justice"], user="partner")
    run = pilot.launch(dossier["id"], "rt_partner")
    portal = app.test_client()
    login(portal, users["partner"])
    for kind, element in [("task", "Signifier"), ("validation", "Valider")]:
        action = pilot.only_action(run["id"], element)
        page = portal.get(f"/portal/actions/{action['id']}").get_data(as_text=True)
        offered = set(re.findall(r'name="choice" value="([a-z]+)', page))
        assert offered == {COMPLETIONS[kind]}, (kind, offered)
        answer = portal.post(f"/portal/actions/{action['id']}/complete", data={"choice": status})
        code, error = expected_answer("partner", kind, status)
        where = (kind, status, answer.status_code)
        still_open = action["id"] in [a["id"] for a in pilot.open_actions(run["id"])]
        if error:
            assert answer.status_code == code and still_open, where
            assert 'role="alert"' in answer.get_data(as_text=True), where
        else:
            assert answer.status_code == 303 and not still_open, where
