"""Simulation of a draft on the real engine, before publishing (runtime.simulation): nothing is stored."""

from flask import request

from kernel.errors import Malformed
from runtime.simulation import simulate_draft as simulate

from ..clock import now
from ..extensions import db
from ..labels import outcome_label, role_label
from ..permissions import Perm
from . import allowed, api


@api.post("/simulation")
@allowed(Perm.SEQUENCES_WRITE)
def simulate_draft():
    """Replay a draft with steps: `{xml, steps: [{kind: complete|timer|message, element_id?, status?,
    outcome?, name?, payload?}], dossier?: {...}}` → open actions, waiting timers and messages, active
    elements, end."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise Malformed("Envoyez {\"xml\": \"<definitions…>\", \"steps\": [...]} en JSON.")
    state = simulate(db.session, body["xml"].encode("utf-8"), body.get("steps"), body.get("dossier"), now())
    for action in state.get("open_actions") or []:
        # What people read next to the keys: the dictionary's labels.
        action["role_label"] = role_label(action.get("role")) if action.get("role") else None
        action["outcome_labels"] = {o: outcome_label(o) for o in action.get("outcomes") or []}
    return state
