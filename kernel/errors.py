"""Errors shared by every layer. They live at the bottom so that each layer can raise them; web/errors.py
turns them into HTML pages or JSON answers, with their HTTP status, in one place."""

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

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class Malformed(DomainError):
    code = "malformed"


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "forbidden"


class ForbiddenStatus(NotAllowed):
    """A user ends an action with a status their profile may not use (a partner skipping its action)."""

    code = "forbidden_status"


class Conflict(DomainError):
    code = "conflict"

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message, **details)
        if code:
            self.code = code


class AlreadyRunning(Conflict):
    """A user launches a sequence that already runs on the dossier without confirming a second run."""

    code = "already_running"


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedType(DomainError):
    code = "unsupported_media_type"


class RuleBroken(DomainError):
    """A valid request that breaks a business rule."""

    code = "rule_broken"

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

    def __init__(self, issues: list[Issue], message: str = "La séquence comporte des problèmes à corriger."):
        super().__init__(message, issues=[i.to_dict() for i in issues])
        self.issues = issues
