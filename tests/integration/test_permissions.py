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
