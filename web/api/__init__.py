"""REST API v1 (README, "REST API"): JSON under /api/v1, Bearer tokens; the browser's session works too,
with CSRF."""

import math
import re
from functools import wraps

from apiflask import APIBlueprint
from flask import current_app, g, request
from flask_login import current_user

from kernel.accounts import user_for_token
from kernel.errors import Malformed, NotAllowed, NotFound

from ..clock import now
from ..errors import Unauthorized
from ..extensions import csrf, db
from ..permissions import Perm, allows, table

api = APIBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)


@api.before_request
def authenticate() -> None:
    g.user = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("En-tête Authorization attendu : « Bearer <jeton> ».")
        g.user = user_for_token(db.session, token.strip(), now())
        if g.user is None:
            raise Unauthorized("Jeton inconnu ou révoqué.")
        if db.session.dirty:  # the token's hourly « last used »: kept even by a request that writes nothing
            db.session.commit()
    elif current_user.is_authenticated:
        # A page of the app calling the API with its session cookie: same CSRF rule as forms.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.user = current_user.account


def allowed(perm: Perm):
    """Requires an authenticated user holding `perm`. Partners get 404 where others get 403: what they may
    not see does not exist for them."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = g.get("user")
            if user is None:
                raise Unauthorized("Authentification requise (Authorization: Bearer <jeton>).")
            if not allows(user, perm):
                if user.is_partner:
                    raise NotFound("Introuvable.")
                raise NotAllowed("Votre profil ne permet pas cette opération.")
            refuse_unstorable(kwargs)
            return view(*args, **kwargs)

        wrapper.permission = perm
        return api.doc(security="BearerAuth")(wrapper)

    return decorate


# Ids are 32-bit integer columns; PostgreSQL text cannot hold NUL; JSON columns cannot hold NaN.
MAX_ID = 2**31 - 1


def refuse_unstorable(path_values: dict) -> None:
    """What the database cannot hold is refused here (404 for an id, 400 otherwise), never answered 500."""
    for value in path_values.values():
        if (isinstance(value, int) and value > MAX_ID) or (isinstance(value, str) and "\x00" in value):
            raise NotFound("Introuvable.")
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        raise Malformed("Caractère NUL refusé dans les paramètres.")
    if request.is_json:
        try:
            pending = [request.get_json(silent=True)]
        except RecursionError as error:  # json.loads gives up on deep nesting with this, not ValueError
            raise Malformed("Corps JSON trop imbriqué.") from error
        while pending:  # a loop, not recursion: the body's depth is the client's choice
            value = pending.pop()
            if isinstance(value, dict):
                pending.extend(value.keys())
                pending.extend(value.values())
            elif isinstance(value, list):
                pending.extend(value)
            elif (isinstance(value, str) and "\x00" in value) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                raise Malformed("Le corps JSON contient un caractère NUL, NaN ou Infinity.")


# Success answers other than apiflask's default "200 JSON", for @api.doc(responses=...).
CREATED = {201: "Created"}
CREATED_OR_SAME = {200: "Unchanged", 201: "Created"}
ACCEPTED = {202: "Accepted"}
XML = {200: {"description": "BPMN XML", "content": {"application/xml": {"schema": {"type": "string"}}}}}


# The errors any request with a body may answer. 500 is never documented: it is always a bug.
WRITE_ERRORS = {
    "400": "Malformed request",
    "409": "Conflict (e.g. the action is no longer open)",
    "413": "Request too large",
    "415": "Unsupported media type",
    "422": "Valid request that breaks a rule",
}
INTERNAL_ROLES = {"admin", "analyst", "manager"}


@api.record_once
def _register_error_docs(state) -> None:
    state.app.spec_processor(document_errors)


def document_errors(spec: dict) -> dict:
    """Adds to the OpenAPI description the answers apiflask cannot infer: 403 when an internal role lacks
    the permission, 404 when partners lack it (what they may not see does not exist for them), and the errors
    any write may answer."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}}}
    for rule in current_app.url_map.iter_rules():
        perm = getattr(current_app.view_functions[rule.endpoint], "permission", None)
        operations = spec["paths"].get(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
        if perm is None or operations is None:
            continue
        holders = set(table()[perm.value])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            responses = operations.get(method.lower(), {}).get("responses")
            if responses is None:
                continue
            if INTERNAL_ROLES - holders:
                responses.setdefault("403", {**error, "description": "Not allowed for this profile"})
            if "partner" not in holders:
                responses.setdefault("404", {**error, "description": "Not found (partners: not theirs)"})
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                for status, description in WRITE_ERRORS.items():
                    responses.setdefault(status, {**error, "description": description})
    return spec


from . import (  # noqa: E402,F401  (routes register on import)
    actions,
    communications,
    dictionary,
    dossiers,
    migrations,
    runs,
    sequences,
    shared_work,
    simulation,  # noqa: E402,F401
)
