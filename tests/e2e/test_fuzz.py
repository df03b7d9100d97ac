"""The REST API fuzzed with schemathesis from its own OpenAPI description, with every role's token.

Per operation and role, a bounded number of generated requests (valid and invalid ones), half of them
aimed at ids that exist (a published sequence, a dossier with participants, a run and its actions), so the
handlers get past "404 not found". Each answer must not be a 5xx and must conform to the description:
a documented status code, a documented content type, a body matching the documented schema."""

import json
import os
import time
from collections import Counter

import pytest

from tests.integration.pilot import Pilot

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (test extras)")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True),
]

ROLES = ["admin", "analyst", "manager", "partner"]
# Examples per operation, role and generation mode. FUZZ_EXAMPLES raises it for a longer local session.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def seeded(app, client, users):
    """What the ids of the generated requests can point at: two dossiers, runs, open and done actions."""
    pilot = Pilot(client, users)
    pilot.publish("rt_parallel", "rt_loop", "rt_partner")
    dossier = pilot.dossier("FUZZ-1")
    internal = pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    pilot.participant(dossier["id"], "partner", "Me P", ["commissaire_justice"], user="partner")
    run = pilot.launch(dossier["id"], "rt_parallel")
    done = pilot.only_action(run["id"], "A")
    pilot.complete(done["id"])
    other = pilot.dossier("FUZZ-2")
    pilot.participant(other["id"], "internal", "G", ["gestionnaire"], user="manager")
    pilot.participant(other["id"], "partner", "Me Q", ["commissaire_justice"], user="partner2")
    loop = pilot.launch(other["id"], "rt_loop")
    return {
        "dossier_id": [dossier["id"], other["id"]],
        "participant_id": [internal["id"]],
        "run_id": [run["id"], loop["id"]],
        "action_id": [done["id"], *[a["id"] for a in run["open_actions"] + loop["open_actions"]]],
        "key": ["rt_parallel", "rt_loop"],
        "number": [1],
        "role": ["gestionnaire"],
        "communication_id": [1],
    }


def _path_values(operation, seeded: dict) -> st.SearchStrategy[dict]:
    """Path parameters drawn from the seeded ids (unknown names keep schemathesis's own values)."""
    names = [p.name for p in operation.path_parameters]
    known = {n: st.sampled_from(seeded[n]) for n in names if n in seeded}
    return st.fixed_dictionaries(known) if len(known) == len(names) else st.just({})


def _fuzz_one(operation, mode, headers, seeded, tally: Counter) -> None:
    strategies = [operation.as_strategy(generation_mode=mode)]
    if operation.path_parameters:
        # Half the examples aim at ids that exist.
        strategies.append(
            _path_values(operation, seeded).flatmap(
                lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values or None)
            )
        )

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(headers=headers)
        tally[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def _summary(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_summary(e) for e in error.exceptions)
    return f"{type(error).__name__}: {str(error).strip()[:600]}"


def test_the_api_holds_under_fuzzing(app, users, seeded):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    tally: Counter = Counter()
    failures = []
    started = time.monotonic()
    for role in ROLES:
        headers = users[role].headers
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz_one(operation, mode, headers, seeded, tally)
                except Unsatisfiable:
                    # Nothing to make invalid (no body, no typed parameter): the positive run covers it.
                    assert mode == GenerationMode.NEGATIVE, operation.label
                except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 — reported together below
                    failures.append(f"{role} {operation.label} ({mode.value}): {_summary(error)}")
    cases = sum(tally.values())
    print(
        f"\nfuzz: {cases} requests, {len(operations)} operations x {len(ROLES)} roles x 2 modes "
        f"in {time.monotonic() - started:.0f} s; statuses {dict(sorted(tally.items()))}"
    )
    assert not failures, "\n\n".join(failures)
    assert cases >= len(operations) * len(ROLES) * EXAMPLES
    assert not [code for code in tally if code >= 500]


BIG = 2**70
EDGE_CASES = [
    ("GET", "/runs/{big}", None, 404),
    ("POST", "/runs/{big}/actions", {"name": "x", "role": "gestionnaire"}, 404),
    ("GET", "/dossiers/{big}", None, 404),
    ("GET", "/sequences/rt_parallel/versions/{big}", None, 404),
    ("GET", "/sequences/a%00b", None, 404),
    ("POST", "/dossiers/{dossier}/runs", {"sequence": "rt_parallel", "version": BIG}, 400),
    ("POST", "/runs/{run}/back", {"step": BIG, "reason": "r"}, 400),
    ("PUT", "/runs/{run}/roles/gestionnaire", {"participant_ids": [BIG]}, 400),
    ("GET", "/actions?dossier_id={big}", None, 400),
    ("GET", "/actions?offset={big}", None, 400),
    ("GET", "/actions?status=open%00", None, 400),
    ("GET", "/templates/x?version={big}", None, 400),
    ("POST", "/dossiers", {"reference": "a\x00b"}, 400),
    ("POST", "/dossiers", {"reference": "b", "data": {"k\x00": 1}}, 400),
    ("POST", "/dossiers/{dossier}/events", {"name": "paid", "data": {"v": ["\x00"]}}, 400),
    ("POST", "/dossiers", '{"reference": "c", "data": {"x": NaN}}', 400),
    ("POST", "/dossiers", '{"reference": "d", "data": ' + "[" * 5000 + "]" * 5000 + "}", 400),
]


def test_what_the_database_cannot_hold_is_refused(app, users, seeded):
    """Found by fuzzing (huge integers) or by reading the PostgreSQL limits (NUL in text, NaN in JSON, deep
    nesting): each was a 500 before; now a 404 for an impossible id, a 400 otherwise."""
    client = app.test_client()
    headers = {**users["admin"].headers, "Content-Type": "application/json"}
    wrong = []
    for method, path, body, expected in EDGE_CASES:
        url = "/api/v1" + path.format(big=BIG, dossier=seeded["dossier_id"][0], run=seeded["run_id"][0])
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        answer = client.open(url, method=method, data=data, headers=headers)
        if answer.status_code != expected:
            wrong.append((method, url[:80], answer.status_code, answer.get_data(as_text=True)[:200]))
    assert wrong == []
