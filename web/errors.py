"""The one place where errors become JSON answers (under /api) or HTML pages."""

from apiflask import HTTPError
from flask import g, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from bpmn.engine import EngineError
from kernel.errors import (
    Conflict,
    DomainError,
    InvalidSequence,
    Malformed,
    NotAllowed,
    NotFound,
    RuleBroken,
    TooLarge,
    UnsupportedType,
)

from .extensions import db


class Unauthorized(DomainError):
    """No valid API token."""

    code = "unauthorized"


# The HTTP status of each domain error, the nearest class in its ancestry deciding.
_STATUS = {
    DomainError: 400,
    Malformed: 400,
    Unauthorized: 401,
    NotAllowed: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedType: 415,
    RuleBroken: 422,
    InvalidSequence: 422,
    EngineError: 500,
}


def status_of(error: DomainError) -> int:
    return next(_STATUS[cls] for cls in type(error).__mro__ if cls in _STATUS)

_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "rule_broken",
    429: "too_many_requests",
    500: "internal_error",
}


_MESSAGES = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette page n'existe pas, ou ne vous est pas accessible.",
    405: "Cette opération n'est pas possible à cette adresse.",
    413: "Envoi trop volumineux.",
    415: "Type de contenu non pris en charge.",
    429: "Trop de demandes : réessayez dans un moment.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _partner_asks() -> bool:
    user = g.get("user") or (current_user.account if current_user.is_authenticated else None)
    return user is not None and user.is_partner


def _answer(status: int, code: str, message: str, **details):
    if _wants_json():
        response = jsonify({"error": code, "message": message, **details})
        response.status_code = status
        return response
    return render_template("error.html", status=status, code=code, message=message, details=details), status


def init_app(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if status_of(error) == 404 and _partner_asks():
            # What a partner may not see does not exist for them: the answer any unknown address gets, with
            # no id and nothing that tells "someone else's" from "none".
            return _answer(404, _CODES[404], _MESSAGES[404])
        return _answer(status_of(error), error.code, error.message, **error.details)

    @app.error_processor
    def api_error(error: HTTPError):
        details = {}
        if error.detail:
            details["detail"] = error.detail
        body = {
            "error": _CODES.get(error.status_code, "error"),
            "message": error.message,
            **details,
            **(error.extra_data or {}),
        }
        return body, error.status_code, error.headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = error.description or error.name
        if message == type(error).description:  # Werkzeug's generic English text: ours instead
            message = _MESSAGES.get(status, message)
        return _answer(status, _CODES.get(status, "error"), message)
