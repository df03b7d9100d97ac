"""Errors shared by every layer. They live at the bottom so that each layer can raise them; web/ turns them
into HTML pages or JSON answers in one place."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in a diagram, tied to the element an analyst must fix."""

    element_id: str | None
    code: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class Malformed(DomainError):
    code = "malformed"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class ForbiddenStatus(NotAllowed):
    """A user ends an action with a status their profile may not use (a partner skipping its action)."""

    code = "forbidden_status"


class Conflict(DomainError):
    code = "conflict"
    status = 409

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message, **details)
        if code:
            self.code = code


class AlreadyRunning(Conflict):
    """A user launches a sequence that already runs on the dossier without confirming a second run."""

    code = "already_running"


class TooLarge(DomainError):
    code = "too_large"
    status = 413


class RuleBroken(DomainError):
    """A valid request that breaks a business rule (422)."""

    code = "rule_broken"
    status = 422

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message, **details)
        if code:
            self.code = code


class TooLong(RuleBroken):
    """A value longer than its field holds: refused whole, with the field and the limit, never cut."""

    def __init__(self, field: str, label: str, limit: int, length: int):
        super().__init__(
            f"« {label} » : {length} caractères, {limit} au plus. Raccourcissez-le.",
            code="too_long",
            field=field,
            limit=limit,
        )


class InvalidSequence(DomainError):
    code = "invalid_sequence"
    status = 422

    def __init__(self, issues: list[Issue], message: str = "La séquence comporte des problèmes à corriger."):
        super().__init__(message, issues=[i.to_dict() for i in issues])
        self.issues = issues
