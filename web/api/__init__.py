"""REST API v1 (SPEC §6): JSON under /api/v1, Bearer tokens; the browser's session works too, with CSRF."""

from functools import wraps

from apiflask import APIBlueprint
from flask import g, request
from flask_login import current_user

from bpmn.errors import DomainError, NotAllowed, NotFound
from designer.accounts import user_for_token

from ..clock import now
from ..extensions import csrf, db
from ..permissions import Perm, allows

api = APIBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


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
            return view(*args, **kwargs)

        wrapper.permission = perm
        return api.doc(security="BearerAuth")(wrapper)

    return decorate


def actor() -> str:
    return f"user:{g.user.id}"


from . import (  # noqa: E402,F401  (routes register on import)
    actions,
    communications,
    dossiers,
    runs,
    sequences,
    simulation,  # noqa: E402,F401
)
