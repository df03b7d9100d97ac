"""Who may do what, in one table. Every API route and page names one of these permissions."""

from enum import StrEnum

from kernel.accounts import User, UserKind, UserRole


class Perm(StrEnum):
    ADMIN = "admin"  # users, tokens, settings
    SEQUENCES_READ = "sequences.read"
    SEQUENCES_WRITE = "sequences.write"  # draw, validate, publish
    DOSSIERS_READ = "dossiers.read"
    DOSSIERS_WRITE = "dossiers.write"  # create, edit, participants
    RUNS_PILOT = "runs.pilot"  # launch, interrupt, switch, change role holders, events, adaptations
    ACTIONS_ANY = "actions.any"  # complete, cancel, skip any action
    ACTIONS_OWN = "actions.own"  # the actions of the roles one holds (partners: the portal)


_ROLES: dict[Perm, set[str]] = {
    Perm.ADMIN: {UserRole.ADMIN},
    Perm.SEQUENCES_READ: {UserRole.ADMIN, UserRole.ANALYST, UserRole.MANAGER},
    Perm.SEQUENCES_WRITE: {UserRole.ADMIN, UserRole.ANALYST},
    Perm.DOSSIERS_READ: {UserRole.ADMIN, UserRole.ANALYST, UserRole.MANAGER},
    Perm.DOSSIERS_WRITE: {UserRole.ADMIN, UserRole.MANAGER},
    Perm.RUNS_PILOT: {UserRole.ADMIN, UserRole.MANAGER},
    Perm.ACTIONS_ANY: {UserRole.ADMIN, UserRole.MANAGER},
    Perm.ACTIONS_OWN: {UserRole.ADMIN, UserRole.MANAGER, "partner"},
}


def allows(user: User | None, perm: Perm) -> bool:
    if user is None or not user.active:
        return False
    who = "partner" if user.kind == UserKind.PARTNER else user.role
    return who in _ROLES[perm]


def table() -> dict[str, list[str]]:
    return {p.value: sorted(r) for p, r in _ROLES.items()}
