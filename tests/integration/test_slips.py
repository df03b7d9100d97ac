"""Small slips a user meets: what a partner's 404 tells, where a login lands, long values refused or shown."""

from urllib.parse import quote

from flask_babel import refresh

from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.documents import attach
from tests.conftest import START
from tests.integration.test_workspace_pages import PDF, client, login, open_action, text, world  # noqa: F401


def test_a_partner_gets_the_plain_not_found_whatever_the_id(client, session, world, users):  # noqa: F811
    dossier, run = world["dossier"], world["run"]
    at = client.application.config["CLOCK"].now()
    manager = Actor(user_id=users["manager"].id)
    call = open_action(session, run.id, "Call")
    complete_action(session, call.id, manager, "done", "no_answer", None, at)
    serve = open_action(session, run.id, "Serve")
    document = attach(
        session, serve, Actor(user_id=users["partner"].id, is_partner=True), "acte.pdf", PDF, at
    )
    session.commit()
    login(client, users["partner2"])
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    for url in (
        f"/portal/documents/{document.id}",
        "/portal/documents/999999",
        f"/portal/actions/{serve.id}",
        "/portal/actions/999999",
        f"/dossiers/{dossier.id}",
    ):
        answer = client.get(url)
        assert answer.status_code == 404 and text(answer) == text(unknown), url
    refused = client.post(f"/portal/actions/{serve.id}/complete", data={"choice": "done"})
    assert refused.status_code == 404 and text(refused) == text(unknown)

    headers = users["partner2"].headers
    nothing = client.get("/api/v1/actions/999999", headers=headers)
    assert nothing.status_code == 404 and str(999999) not in text(nothing)
    for method, url in (
        ("get", f"/api/v1/actions/{serve.id}"),
        ("get", f"/api/v1/runs/{run.id}"),
        ("get", f"/api/v1/dossiers/{dossier.id}"),
        ("get", f"/api/v1/dossiers/{dossier.id}/history"),
        ("get", "/api/v1/dossiers/999999"),
        ("post", f"/api/v1/actions/{serve.id}/complete"),
    ):
        answer = getattr(client, method)(
            url, headers=headers, json={"status": "done"} if method == "post" else None
        )
        assert answer.status_code == 404 and answer.get_json() == nothing.get_json(), url
    # Internal users keep the precise message.
    login(client, users["manager"])
    assert "999999" in text(client.get("/api/v1/actions/999999", headers=users["manager"].headers))


def sign_in(http, name: str, next_: str | None = None, entry: str = "/login") -> str:
    url = entry + (f"?next={quote(next_)}" if next_ is not None else "")
    answer = http.post(url, data={"email": f"{name}@example.test", "password": "correct horse"})
    assert answer.status_code == 302, text(answer)
    return answer.headers["Location"]


def test_each_profile_lands_on_its_start_page_and_a_safe_next_is_honoured(client, users):  # noqa: F811
    starts = {"manager": "/inbox/", "analyst": "/designer/", "admin": "/overview/", "partner": "/portal/"}
    for name, start in starts.items():
        client.post("/logout")
        assert sign_in(client, name) == start
        assert client.get("/").headers["Location"] == start
        assert sign_in(client, name, entry="/portal/login") == start
        for unsafe in ("//evil.example/x", "/\\evil.example", "https://evil.example/", "/\t/evil.example"):
            assert sign_in(client, name, unsafe) == start, unsafe
    client.post("/logout")
    assert sign_in(client, "manager", "/dossiers/?q=0111") == "/dossiers/?q=0111"
    client.post("/logout")
    assert sign_in(client, "partner", "/portal/actions/1") == "/portal/actions/1"
    client.post("/logout")
    assert sign_in(client, "partner", "/dossiers/") == "/portal/"  # never a page that answers them 404


LONG = ("Relance amiable du locataire " * 80)[:2160]


def test_a_value_longer_than_its_field_is_refused_whole_naming_the_field(client, session, world, users):  # noqa: F811
    from runtime.models import Dossier, Participant

    manager = users["manager"]
    dossiers = session.query(Dossier).count()
    created = client.post(
        "/api/v1/dossiers", json={"reference": "R-LONG", "title": LONG}, headers=manager.headers
    )
    assert created.status_code == 422, created.get_json()
    body = created.get_json()
    assert body["error"] == "too_long" and body["field"] == "title" and body["limit"] == 300
    assert "Titre" in body["message"] and "2160" in body["message"] and "300" in body["message"]
    dossier = world["dossier"]
    patched = client.patch(f"/api/v1/dossiers/{dossier.id}", json={"title": LONG}, headers=manager.headers)
    assert patched.status_code == 422 and patched.get_json()["field"] == "title"
    person = client.post(
        f"/api/v1/dossiers/{dossier.id}/participants",
        json={"kind": "contact", "name": LONG, "roles": []},
        headers=manager.headers,
    )
    assert person.status_code == 422 and person.get_json()["field"] == "name"
    reference = client.post("/api/v1/dossiers", json={"reference": "R" * 101}, headers=manager.headers)
    assert reference.status_code == 422 and reference.get_json()["limit"] == 100

    login(client, manager)
    page = client.post("/dossiers/", data={"reference": "R-LONG", "title": LONG})
    assert page.status_code == 422
    assert "« Titre » : 2160 caractères, 300 au plus" in text(page)
    assert f'value="{LONG}"' in text(page) and 'value="R-LONG"' in text(page)  # what was typed is kept
    assert 'maxlength="300"' not in text(page)  # the browser no longer cuts a paste silently
    session.expire_all()
    assert session.query(Dossier).count() == dossiers
    assert session.get(Dossier, dossier.id).title != LONG
    assert not session.query(Participant).filter(Participant.name == LONG).count()


def test_a_sequence_with_a_name_longer_than_its_column_is_invalid_on_the_element(client, users):  # noqa: F811
    from tests.factories import bpmn, xml_headers

    xml = bpmn("runtime/rt_relance.bpmn").replace(b'name="Appeler le locataire"', f'name="{LONG}"'.encode())
    xml = xml.replace(b'name="Relance (test)"', f'name="{LONG}"'.encode())
    answer = client.post("/api/v1/sequences/validate", data=xml, headers=xml_headers(users["analyst"]))
    issues = {(i["element_id"], i["code"]): i["message"] for i in answer.get_json()["issues"]}
    assert not answer.get_json()["valid"]
    assert "2160 caractères, 300 au plus" in issues[("Call", "name_too_long")]
    assert ("rt_relance", "name_too_long") in issues
    assert len(issues[("Call", "name_too_long")]) < 200


def test_search_finds_part_of_a_reference_the_address_and_outside_people_not_staff(client, session, users):  # noqa: F811
    from runtime.dossiers import add_participant, create_dossier

    manager = users["manager"]
    actor = Actor(user_id=manager.id)
    at = client.application.config["CLOCK"].now()
    tenant = create_dossier(
        session, actor, "IMP-2026-0111", "Loyers impayés", {"address": "12 rue des Lilas, Tours"}, at
    )
    add_participant(session, tenant, actor, at, kind="contact", name="Sofia Benali")
    for number in range(112, 115):
        other = create_dossier(session, actor, f"IMP-2026-0{number}", "Loyers impayés", {"montant": 111}, at)
        add_participant(
            session,
            other,
            actor,
            at,
            kind="internal",
            name="Karim Benali",
            user_id=manager.id,
        )
        add_participant(
            session, other, actor, at, kind="contact", name=f"Locataire {number}"
        )
    session.commit()
    login(client, manager)

    def found(q: str) -> set[str]:
        body = text(client.get(f"/dossiers/?q={quote(q)}"))
        return {r for r in ("IMP-2026-0111", "IMP-2026-0112", "IMP-2026-0113", "IMP-2026-0114") if r in body}

    assert found("0111") == {"IMP-2026-0111"}
    assert found("imp-2026-011") == {"IMP-2026-0111", "IMP-2026-0112", "IMP-2026-0113", "IMP-2026-0114"}
    assert found("rue des lilas") == {"IMP-2026-0111"}
    assert found("Benali") == {"IMP-2026-0111"}  # the tenant, not every dossier of the case manager
    assert found("Locataire 113") == {"IMP-2026-0113"}
    assert found("111") == {"IMP-2026-0111"}  # an amount in the data is not searched


def test_a_long_value_folds_and_an_inbox_row_points_at_its_action(client, session, world, users):  # noqa: F811
    from runtime.dossiers import update_dossier

    dossier, run = world["dossier"], world["run"]
    manager = users["manager"]
    huge = "x" * 50_000
    update_dossier(session, dossier, Actor(user_id=manager.id), START, data={"observations": huge})
    session.commit()
    login(client, manager)
    data = text(client.get(f"/dossiers/{dossier.id}?tab=data"))
    assert "afficher tout (50000 caractères)" in data and data.count(huge) == 1
    refresh()  # the test holds one app context: the locale the first request chose would stay
    assert "show all (50000 characters)" in text(client.get(f"/dossiers/{dossier.id}?tab=data&lang=en"))
    refresh()
    call = open_action(session, run.id, "Call")
    assert f'href="/dossiers/{dossier.id}#action-{call.id}"' in text(client.get("/inbox/"))
    assert f'<article id="action-{call.id}"' in text(client.get(f"/dossiers/{dossier.id}"))


def test_a_comment_longer_than_its_field_is_refused_keeping_what_was_typed(client, session, world, users):  # noqa: F811
    run = world["run"]
    manager = users["manager"]
    call = open_action(session, run.id, "Call")
    long_comment = ("Signifié à personne. " * 500).strip()  # 10,499 characters
    api = client.post(
        f"/api/v1/actions/{call.id}/complete",
        json={"status": "done", "outcome": "no_answer", "comment": long_comment},
        headers=manager.headers,
    )
    assert api.status_code == 422, api.get_json()
    assert api.get_json()["field"] == "comment" and api.get_json()["limit"] == 10_000
    complete_action(session, call.id, Actor(user_id=manager.id), "done", "no_answer", None, START)
    session.commit()
    serve = open_action(session, run.id, "Serve")
    login(client, users["partner"])
    portal = client.post(
        f"/portal/actions/{serve.id}/complete", data={"choice": "done:served", "comment": long_comment}
    )
    assert portal.status_code == 422
    assert "« Commentaire » : 10499 caractères, 10000 au plus" in text(portal)
    assert f">{long_comment}</textarea>" in text(portal) and 'maxlength="10000"' not in text(portal)
    session.expire_all()
    assert open_action(session, run.id, "Serve") is not None
