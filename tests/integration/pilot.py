"""A thin driver of the REST API for scenario tests: each call is one HTTP request, so the run is saved
and reloaded from the database between every step (the engines this process keeps are forgotten first)."""

from runtime import engine_cache
from tests.factories import DATA


class Pilot:
    def __init__(self, client, users):
        self.client = client
        self.users = users

    def call(self, method, path, who="manager", expect=None, **kwargs):
        engine_cache.clear()  # every step rebuilds the run's engine from its stored state
        headers = {**self.users[who].headers, **kwargs.pop("headers", {})}
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response.get_json()

    def publish(self, *names, folder="runtime"):
        for name in names:
            data = (DATA / "bpmn" / folder / f"{name}.bpmn").read_bytes()
            saved = self.call(
                "POST", "/sequences", who="analyst", data=data, headers={"Content-Type": "application/xml"}
            )
            assert saved["issues"] == [], saved
            self.call("POST", f"/sequences/{saved['key']}/publish", who="analyst", expect=201)

    def dossier(self, reference="D-1", data=None):
        return self.call(
            "POST",
            "/dossiers",
            json={"reference": reference, "title": "Dossier " + reference, "data": data or {}},
            expect=201,
        )

    def participant(self, dossier_id, kind, name, roles, user=None, email=None):
        body = {"kind": kind, "name": name, "roles": roles, "email": email}
        if user:
            body["user_email"] = self.users[user].user.email
        return self.call("POST", f"/dossiers/{dossier_id}/participants", json=body, expect=201)

    def launch(self, dossier_id, sequence, expect=201, **body):
        return self.call(
            "POST", f"/dossiers/{dossier_id}/runs", json={"sequence": sequence, **body}, expect=expect
        )

    def run(self, run_id):
        return self.call("GET", f"/runs/{run_id}", expect=200)

    def open_actions(self, run_id):
        return self.run(run_id)["open_actions"]

    def complete(self, action_id, status="done", outcome=None, who="manager", expect=200, comment=None):
        return self.call(
            "POST",
            f"/actions/{action_id}/complete",
            who=who,
            expect=expect,
            json={"status": status, "outcome": outcome, "comment": comment},
        )

    def history(self, dossier_id):
        return self.call("GET", f"/dossiers/{dossier_id}/history", expect=200)

    def only_action(self, run_id, element_id):
        actions = [a for a in self.open_actions(run_id) if a["element_id"] == element_id]
        assert len(actions) == 1, self.open_actions(run_id)
        return actions[0]

    def complete_with(self, action_id, data, status="done", who="manager", expect=200):
        """Completes an action whose form gives dossier values."""
        return self.call(
            "POST",
            f"/actions/{action_id}/complete",
            who=who,
            expect=expect,
            json={"status": status, "data": data},
        )
