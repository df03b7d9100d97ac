"""Dossiers and their participants (intervenants), with the roles they hold by default."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.accounts import User, UserKind, user_by_email
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from . import journal
from .actors import Actor
from .journal import Kind
from .models import Dossier, Participant, ParticipantKind, ParticipantRole, Run, RunRole


def create_dossier(
    session: Session, actor: Actor, reference: str, title: str, data: dict | None, now: datetime
) -> Dossier:
    reference = (reference or "").strip()
    if not reference:
        raise Malformed("La référence du dossier est obligatoire.")
    if data is not None and not isinstance(data, dict):
        raise Malformed("« data » doit être un objet JSON.")
    if session.scalar(select(Dossier.id).where(Dossier.reference == reference)):
        raise Conflict(f"Un dossier de référence {reference} existe déjà.")
    dossier = Dossier(
        reference=reference, title=title or reference, data=data or {}, created_at=now, updated_at=now
    )
    session.add(dossier)
    session.flush()
    journal.record(
        session, dossier.id, actor.label, Kind.DOSSIER_CREATED, now, reference=reference, title=dossier.title
    )
    return dossier


def update_dossier(
    session: Session,
    dossier: Dossier,
    actor: Actor,
    now: datetime,
    *,
    title: str | None = None,
    data: dict | None = None,
) -> Dossier:
    changes = {}
    if title is not None and title != dossier.title:
        changes["title"] = {"from": dossier.title, "to": title}
        dossier.title = title
    if data is not None:
        if not isinstance(data, dict):
            raise Malformed("« data » doit être un objet JSON.")
        changed = {
            k: {"from": dossier.data.get(k), "to": v} for k, v in data.items() if dossier.data.get(k) != v
        }
        if changed:
            changes["data"] = changed
            dossier.data = {**dossier.data, **data}
    if changes:
        dossier.updated_at = now
        journal.record(session, dossier.id, actor.label, Kind.DOSSIER_UPDATED, now, changes=changes)
    return dossier


def visible_dossier_ids(session: Session, user_id: int):
    """The dossiers a partner holds a role in, by default or in a run: a select of ids."""
    by_default = select(Participant.dossier_id).join(ParticipantRole).where(Participant.user_id == user_id)
    in_runs = (
        select(Run.dossier_id)
        .join(RunRole)
        .join(Participant, RunRole.participant_id == Participant.id)
        .where(Participant.user_id == user_id)
    )
    return by_default.union(in_runs)


def get_dossier(session: Session, dossier_id: int, actor: Actor | None = None) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or (
        actor is not None
        and actor.is_partner
        and dossier_id not in set(session.scalars(visible_dossier_ids(session, actor.user_id)))
    ):
        raise NotFound(f"Aucun dossier {dossier_id}.")
    return dossier


def add_participant(
    session: Session,
    dossier: Dossier,
    actor: Actor,
    now: datetime,
    *,
    kind: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    user_id: int | None = None,
    roles: list[str] | None = None,
) -> Participant:
    if kind not in set(ParticipantKind):
        raise Malformed(f"Type d'intervenant inconnu : {kind!r} (internal, partner ou contact).")
    if not (name or "").strip():
        raise Malformed("Le nom de l'intervenant est obligatoire.")
    if kind == ParticipantKind.CONTACT and user_id is not None:
        raise RuleBroken(
            "Un contact ne se connecte pas : il ne peut pas être lié à un compte.",
            code="contact_without_account",
        )
    participant = Participant(
        dossier=dossier,
        kind=kind,
        name=name.strip(),
        email=email,
        phone=phone,
        address=address,
        user_id=user_id,
        created_at=now,
    )
    session.add(participant)
    for role in dict.fromkeys(roles or []):
        participant.roles.append(ParticipantRole(role=_role_key(role)))
    session.flush()
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.PARTICIPANT_ADDED,
        now,
        participant_id=participant.id,
        name=participant.name,
        kind=kind,
        roles=participant.role_keys,
    )
    return participant


def set_participant_roles(
    session: Session, participant: Participant, actor: Actor, roles: list[str], now: datetime
) -> Participant:
    before = participant.role_keys
    wanted = [_role_key(r) for r in dict.fromkeys(roles)]
    participant.roles[:] = [r for r in participant.roles if r.role in wanted]
    for role in wanted:
        if role not in participant.role_keys:
            participant.roles.append(ParticipantRole(role=role))
    session.flush()
    journal.record(
        session,
        participant.dossier_id,
        actor.label,
        Kind.PARTICIPANT_UPDATED,
        now,
        participant_id=participant.id,
        roles={"from": before, "to": participant.role_keys},
    )
    return participant


def get_participant(session: Session, dossier: Dossier, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.dossier_id != dossier.id:
        raise NotFound(f"Aucun intervenant {participant_id} dans ce dossier.")
    return participant


def default_holders(dossier: Dossier) -> dict[str, list[int]]:
    holders: dict[str, list[int]] = {}
    for participant in dossier.participants:
        for role in participant.role_keys:
            holders.setdefault(role, []).append(participant.id)
    return holders


def _role_key(role: str) -> str:
    role = (role or "").strip()
    if not role:
        raise Malformed("Un rôle vide n'est pas un rôle.")
    return role


def account_for_participant(session: Session, kind: str, email: str) -> User:
    """The account a new participant of `kind` is linked to: a partner's account for a partner, an internal
    one for an internal participant; a contact has none."""
    user = user_by_email(session, email)
    if user is None:
        raise NotFound(f"Aucun compte {email}.")
    expected = UserKind.PARTNER if kind == "partner" else UserKind.INTERNAL
    if kind == "contact" or user.kind != expected:
        raise RuleBroken(
            f"Le compte {user.email} ne correspond pas à un intervenant « {kind} ».",
            code="account_kind_mismatch",
        )
    return user


def latest_dossiers(session: Session, limit: int) -> list[Dossier]:
    return list(session.scalars(select(Dossier).order_by(Dossier.id.desc()).limit(limit)))
