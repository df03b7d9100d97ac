"""Who may see which page, generated from the route table (endpoints "pages.*") so that a new page cannot
skip it: every page names its permission, and each kind of user gets the expected answer on every page,
with ids that exist (a dossier, its run, action, participant and document; a published sequence)."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from designer.models import SequenceDraft
from tests.integration.pilot import Pilot
from web.permissions import Perm, allows

# Reachable without an account.
PUBLIC = {"pages.login", "pages.logout", "pages.portal_login"}
# Any signed-in user, no permission named: the home page only sends each kind of user to its own start page.
SIGNED_IN = {"pages.home"}
INTERNAL = ["admin", "analyst", "manager"]


def page_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("pages.") and rule.endpoint not in PUBLIC:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def is_portal(rule) -> bool:
    return rule.endpoint.startswith("pages.portal_")


@pytest.fixture
def ids(app, client, users, session):
    """partner holds `commissaire_justice` in dossier D1 (the manager is its `gestionnaire`); partner2
    holds it only in D2."""
    from runtime.actors import Actor
    from runtime.documents import attach
    from runtime.models import Action

    pilot = Pilot(client, users)
    pilot.publish("rt_parallel", "rt_partner")
    mine = pilot.dossier("PAGES-1")
    pilot.participant(mine["id"], "internal", "G", ["gestionnaire"], user="manager")
    partner = pilot.participant(mine["id"], "partner", "Me P", ["commissaire_justice"], user="partner")
    run = pilot.launch(mine["id"], "rt_partner")
    action = pilot.only_action(run["id"], "Signifier")
    theirs = pilot.dossier("PAGES-2")
    pilot.participant(theirs["id"], "partner", "Me Q", ["commissaire_justice"], user="partner2")
    other_run = pilot.launch(theirs["id"], "rt_partner")
    document = attach(
        session,
        session.get(Action, action["id"]),
        Actor(user_id=users["partner"].id, is_partner=True),
        "constat.txt",
        b"Constat",
        datetime.now(UTC),
    )
    session.commit()
    return {
        "dossier_id": mine["id"],
        "run_id": run["id"],
        "action_id": action["id"],
        "participant_id": partner["id"],
        "document_id": document.id,
        "key": "rt_parallel",
        "number": 1,
        "draft_id": session.scalar(select(SequenceDraft.id)),
        "other_dossier_id": theirs["id"],
        "other_action_id": pilot.only_action(other_run["id"], "Signifier")["id"],
    }


def concrete(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def login(client, account) -> None:
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(account.id)
        cookie["_fresh"] = True


def goes_to_login(answer) -> bool:
    return answer.status_code in (301, 302, 303) and "/login" in answer.headers.get("Location", "")


def test_every_page_names_its_permission(app):
    routes = list(page_routes(app))
    assert len(routes) >= 25
    missing = [
        (m, r.rule)
        for m, r in routes
        if r.endpoint not in SIGNED_IN and not hasattr(app.view_functions[r.endpoint], "permission")
    ]
    assert missing == []
    # The portal is the partners' part: every portal page is for the holders of their own actions.
    portal = {r.endpoint: app.view_functions[r.endpoint].permission for _, r in routes if is_portal(r)}
    assert portal and set(portal.values()) == {Perm.ACTIONS_OWN}, portal


def test_anonymous_goes_to_login(app, ids):
    client = app.test_client()
    for method, rule in page_routes(app):
        answer = client.open(concrete(rule, ids), method=method)
        assert goes_to_login(answer), (method, rule.rule, answer.status_code, answer.headers.get("Location"))
    for endpoint in PUBLIC - {"pages.logout"}:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        assert client.get(rule.rule).status_code == 200, endpoint


@pytest.mark.parametrize("name", INTERNAL)
def test_internal_users(app, users, ids, name):
    account = users[name]
    client = app.test_client()
    login(client, account)
    checked = 0
    for method, rule in page_routes(app):
        path = concrete(rule, ids)
        answer = client.open(path, method=method, data={})
        where = (name, method, path, answer.status_code)
        assert answer.status_code < 500 and not goes_to_login(answer), where
        perm = getattr(app.view_functions[rule.endpoint], "permission", None)
        if perm is not None and not allows(account.user, perm):
            assert answer.status_code == 403, where
        elif is_portal(rule) and method == "GET" and rule.endpoint != "pages.portal_document":
            # Internal users work from the dossier pages: the portal sends them to their inbox.
            assert answer.status_code == 302 and "/portal" not in answer.headers["Location"], where
        elif rule.endpoint in SIGNED_IN:
            assert answer.status_code == 302 and "/portal" not in answer.headers["Location"], where
        elif method == "GET":
            assert answer.status_code == 200, where
        else:
            # A form sent empty: refused as incomplete or applied, never refused for lack of rights.
            assert answer.status_code not in (401, 403, 404), where
        checked += 1
    assert checked >= 25


def test_partner_sees_only_the_portal(app, users, ids):
    client = app.test_client()
    login(client, users["partner"])
    for method, rule in page_routes(app):
        path = concrete(rule, ids)
        answer = client.open(path, method=method, data={})
        where = (method, path, answer.status_code)
        assert answer.status_code < 500, where
        if rule.endpoint in SIGNED_IN:
            assert answer.status_code == 302 and "/portal/" in answer.headers["Location"], where
        elif not is_portal(rule):
            assert answer.status_code == 404, where  # as if the page did not exist
        elif method == "GET":
            assert answer.status_code == 200, where
        else:
            assert answer.status_code not in (401, 403, 404), where
    page = client.get(f"/portal/actions/{ids['action_id']}")
    assert page.status_code == 200 and "Signifier le commandement" in page.get_data(as_text=True)


def test_another_partner_gets_404_on_what_is_not_theirs(app, users, ids):
    client = app.test_client()
    login(client, users["partner2"])
    for method, rule in page_routes(app):
        path = concrete(rule, ids)
        answer = client.open(path, method=method, data={})
        where = (method, path, answer.status_code)
        if rule.endpoint in ("pages.portal_home", "pages.portal_profile"):  # their own list, their settings
            assert answer.status_code in (200, 303, 400, 422), where
            assert "PAGES-1" not in answer.get_data(as_text=True)
        elif rule.endpoint not in SIGNED_IN:
            assert answer.status_code == 404, where
    # Their own action is there.
    assert client.get(f"/portal/actions/{ids['other_action_id']}").status_code == 200
