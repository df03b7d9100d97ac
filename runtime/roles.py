"""Roles: which role keys exist and which kind of participant may hold each.

The roles the installation knows are those of its dictionary (designer/dictionary.py), and the lanes of its
published versions (`seq:role`, `seq:roleKind`) that the dictionary does not have yet: `known_roles` is the
one place that says so."""

import difflib

from sqlalchemy import select
from sqlalchemy.orm import Session

from designer.dictionary import DictionaryEntry
from designer.models import SequenceVersion
from kernel.errors import RuleBroken

from .specs import model_of

KIND_LABELS = {"internal": "interne", "partner": "partenaire", "contact": "contact"}

# Published versions never change: the roles each one declares are read once per process.
_ROLES_OF_VERSION: dict[tuple[int, str], dict[str, str]] = {}


def known_roles(session: Session) -> dict[str, str]:
    """Role key → kind of participant who holds it: the dictionary's roles, then the lanes of published
    versions it does not have (a key drawn with several kinds takes the kind of its most recent version)."""
    roles = _lane_roles(session)
    dictionary = select(DictionaryEntry.key, DictionaryEntry.role_kind).where(DictionaryEntry.kind == "roles")
    roles.update({key: kind or "internal" for key, kind in session.execute(dictionary)})
    return roles


def _lane_roles(session: Session) -> dict[str, str]:
    roles: dict[str, str] = {}
    versions = select(SequenceVersion.id, SequenceVersion.checksum).order_by(
        SequenceVersion.published_at, SequenceVersion.id
    )
    for version_id, checksum in session.execute(versions):
        key = (version_id, checksum)
        if key not in _ROLES_OF_VERSION:
            model = model_of(session.get(SequenceVersion, version_id))
            _ROLES_OF_VERSION[key] = {k: r.kind for k, r in model.roles.items()}
        roles.update(_ROLES_OF_VERSION[key])
    return roles


_NAMES_OF_VERSION: dict[tuple[int, str], dict[str, str]] = {}


def lane_names(session: Session) -> dict[str, str]:
    """Role key → the name of its lane in the most recent published version drawing it: what people read
    for a role the dictionary does not have yet."""
    names: dict[str, str] = {}
    versions = select(SequenceVersion.id, SequenceVersion.checksum).order_by(
        SequenceVersion.published_at, SequenceVersion.id
    )
    for version_id, checksum in session.execute(versions):
        key = (version_id, checksum)
        if key not in _NAMES_OF_VERSION:
            model = model_of(session.get(SequenceVersion, version_id))
            _NAMES_OF_VERSION[key] = {k: r.name for k, r in model.roles.items() if r.name}
        names.update(_NAMES_OF_VERSION[key])
    return names


def check_roles(roles: dict[str, str], keys: list[str], kind: str, field: str = "roles") -> None:
    """Each key must be a role of `roles` (key → kind) held by a participant of `kind`; 422 naming the field
    and the key, with the closest known keys."""
    for key in keys:
        _known(roles, key, field)
        if roles[key] != kind:
            raise RuleBroken(
                f"Le rôle « {key} » est tenu par un intervenant {_kind(roles[key])}, "
                f"pas par un intervenant {_kind(kind)}.",
                code="role_kind_mismatch",
                field=field,
                role=key,
                role_kind=roles[key],
            )


def check_holders(roles: dict[str, str], role: str, holders: list, field: str = "roles") -> None:
    """The participants `holders` may hold `role` of a run whose roles are `roles` (key → kind): each of the
    role's kind, and linked to a user account when it is an internal or partner role."""
    _known(roles, role, field)
    for participant in holders:
        if participant.kind != roles[role]:
            raise RuleBroken(
                f"{participant.name} est un intervenant {_kind(participant.kind)} : le rôle « {role} » "
                f"revient à un intervenant {_kind(roles[role])}.",
                code="role_kind_mismatch",
                field=field,
                role=role,
                role_kind=roles[role],
                participant_id=participant.id,
            )
        if participant.kind != "contact" and participant.user_id is None:
            raise RuleBroken(
                f"{participant.name} n'a pas de compte utilisateur : il ne verrait pas les actions du rôle "
                f"« {role} ».",
                code="account_required",
                field=field,
                role=role,
                participant_id=participant.id,
            )


def _known(roles: dict[str, str], key: str, field: str) -> None:
    if key in roles:
        return
    close = difflib.get_close_matches(key, list(roles), n=3, cutoff=0.5)
    hint = f" Rôles proches : {', '.join(close)}." if close else ""
    raise RuleBroken(
        f"Rôle « {key} » inconnu.{hint}", code="unknown_role", field=field, role=key, suggestions=close
    )


def _kind(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)
