"""Dossiers and their participants (intervenants), with the roles they hold by default."""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from designer import dictionary
from designer.values import parse
from kernel.accounts import User, UserKind
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken, TooLong

from . import journal
from .actors import Actor
from .journal import Kind
from .models import Dossier, Participant, ParticipantKind, ParticipantRole, Run, RunRole
from .roles import check_roles, known_roles

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# French (06 12 34 56 78, 06.12.34.56.78) or international (+33 6 12 34 56 78, 0033 6 12 34 56 78).
PHONE = re.compile(r"\+?[0-9][0-9 .-]*")

# What the columns hold (runtime/models.py): a longer value is refused, naming the field and the limit.
LIMITS = {
    "reference": ("Référence", 100),
    "title": ("Titre", 300),
    "name": ("Nom", 300),
    "email": ("E-mail", 254),
    "phone": ("Téléphone", 50),
}


def check_lengths(**values: str | None) -> None:
    for field, value in values.items():
        label, limit = LIMITS[field]
        if value is not None and len(value) > limit:
            raise TooLong(field, label, limit, len(value))


def create_dossier(
    session: Session, actor: Actor, reference: str, title: str, data: dict | None, now: datetime
) -> Dossier:
    reference = (reference or "").strip()
    if not reference:
        raise Malformed("La référence du dossier est obligatoire.")
    check_lengths(reference=reference, title=title)
    if data is not None and not isinstance(data, dict):
        raise Malformed("« data » doit être un objet JSON.")
    data = typed_data(session, data or {}, strict=False)
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
    check_lengths(title=title)
    changes = {}
    if title is not None and title != dossier.title:
        changes["title"] = {"from": dossier.title, "to": title}
        dossier.title = title
    if data is not None:
        if not isinstance(data, dict):
            raise Malformed("« data » doit être un objet JSON.")
        data = typed_data(session, data, strict=False)
        changed = {
            k: {"from": dossier.data.get(k), "to": v} for k, v in data.items() if dossier.data.get(k) != v
        }
        if changed:
            changes["data"] = changed
            dossier.data = {**dossier.data, **data}
    if changes:
        dossier.updated_at = now
        journal.record(session, dossier.id, actor.label, Kind.DOSSIER_UPDATED, now, changes=changes)
    if changes.get("data"):
        # Runs stopped for want of one of these values take their step again (runtime/data_needed.py).
        # Imported here: what steps runs is above the dossiers it reads.
        from .runs import resume_for_data

        resume_for_data(session, dossier, set(changes["data"]), actor, now)
    return dossier


def set_data(session: Session, dossier: Dossier, actor: Actor, values: dict, now: datetime) -> Dossier:
    """Writes dossier fields as people type them (`15/03/2027`, `1 200,50`), each parsed by the type its
    dictionary entry gives; every change is in the history (old → new, who). A key the dictionary does not
    know, or a value its type refuses, is refused naming the field, and nothing is written."""
    if not isinstance(values, dict) or not values:
        raise Malformed("Envoyez les champs à écrire : {champ: valeur, ...}.")
    return update_dossier(session, dossier, actor, now, data=typed_data(session, values, strict=True))


def typed_data(session: Session, values: dict, strict: bool) -> dict:
    """`values` with each field of the dictionary parsed by its type (designer/values.py: InvalidValue names
    the field). A key the dictionary does not know is refused when `strict` (with the closest keys), kept as
    given otherwise (dossiers created by API clients may carry fields nobody has defined yet)."""
    if not values:
        return {}
    words = dictionary.load(session)
    typed = {}
    for key, raw in values.items():
        field = words.fields.get(key)
        if field is not None:
            typed[key] = parse(field, raw)
        elif strict:
            close = words.closest("fields", key)
            hint = f" Champs proches : {', '.join(close)}." if close else ""
            raise RuleBroken(
                f"Le dictionnaire n'a pas de champ « {key} ».{hint} Un analyste peut l'y ajouter.",
                code="unknown_field",
                field=key,
                suggestions=close,
            )
        else:
            typed[key] = raw
    return typed


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
    user_email: str | None = None,
    roles: list[str] | None = None,
) -> Participant:
    """Adds a participant, checked: its kind, contact details, account (`user_id`, or the account's
    `user_email`) and roles, and that it is not on the dossier already; 422 (409 for a duplicate) naming the
    field, nothing written."""
    if kind not in set(ParticipantKind):
        raise Malformed(f"Type d'intervenant inconnu : {kind!r} (internal, partner, contact).", field="kind")
    if not (name or "").strip():
        raise Malformed("Le nom de l'intervenant est obligatoire.", field="name")
    check_lengths(name=name.strip(), email=email, phone=phone)
    email = _checked_email(email)
    phone = _checked_phone(phone)
    account = _account(session, kind, user_id, user_email)
    user_id = account.id if account is not None else None
    keys = [_role_key(r) for r in dict.fromkeys(roles or [])]
    check_roles(known_roles(session), keys, kind)
    _refuse_duplicate(session, dossier, user_id, email)
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
    for role in keys:
        participant.roles.append(ParticipantRole(role=role))
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
    check_roles(known_roles(session), wanted, participant.kind)
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
        raise Malformed("Un rôle vide n'est pas un rôle.", field="roles")
    return role


def _field_error(field: str, message: str, code: str = "invalid_field", **details) -> RuleBroken:
    return RuleBroken(message, code=code, field=field, **details)


def _checked_email(email: str | None) -> str | None:
    email = (email or "").strip() or None
    if email is not None and not EMAIL.fullmatch(email):
        raise _field_error("email", f"Adresse e-mail invalide : « {email} » (attendu : nom@domaine.fr).")
    return email


def _checked_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip() or None
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if phone.startswith("+") or digits.startswith("00"):
        valid = 8 <= len(digits.removeprefix("00")) <= 15  # E.164: at most 15 digits
    else:
        valid = len(digits) == 10 and digits.startswith("0")
    if not PHONE.fullmatch(phone) or not valid:
        raise _field_error(
            "phone",
            f"Numéro de téléphone invalide : « {phone} » "
            "(attendu : 06 12 34 56 78, ou +33 6 12 34 56 78 pour un numéro international).",
        )
    return phone


def _account(session: Session, kind: str, user_id: int | None, user_email: str | None) -> User | None:
    """The user account of an internal or partner participant (both log in to see their actions); a contact
    never has one."""
    user_email = (user_email or "").strip().lower() or None
    if kind == ParticipantKind.CONTACT:
        if user_id is not None or user_email is not None:
            raise _field_error(
                "user_email",
                "Un contact ne se connecte pas : il ne peut pas être lié à un compte.",
                code="contact_without_account",
            )
        return None
    if user_id is not None:
        account = session.get(User, user_id)
    elif user_email is not None:
        account = session.scalar(select(User).where(User.email == user_email))
    else:
        raise _field_error(
            "user_email",
            "Un intervenant interne ou partenaire a besoin d'un compte utilisateur : indiquez son e-mail de "
            "connexion.",
            code="account_required",
        )
    if account is None:
        raise _field_error("user_email", f"Aucun compte {user_email or user_id}.", code="unknown_account")
    if account.kind != (UserKind.PARTNER if kind == ParticipantKind.PARTNER else UserKind.INTERNAL):
        raise _field_error(
            "user_email",
            f"Le compte {account.email} ne correspond pas à un intervenant « {kind} ».",
            code="account_kind_mismatch",
        )
    return account


def _refuse_duplicate(session: Session, dossier: Dossier, user_id: int | None, email: str | None) -> None:
    # Read once the dossier is locked: two people adding the same person at once cannot both find it absent.
    journal.lock_dossier(session, dossier.id)
    for other in session.scalars(select(Participant).where(Participant.dossier_id == dossier.id)):
        if user_id is not None and other.user_id == user_id:
            raise Conflict(
                f"Ce compte est déjà intervenant sur ce dossier : {other.name}.",
                code="duplicate_participant",
                field="user_email",
                participant_id=other.id,
            )
        if email is not None and (other.email or "").lower() == email.lower():
            raise Conflict(
                f"L'adresse {email} est déjà celle d'un intervenant de ce dossier : {other.name}.",
                code="duplicate_participant",
                field="email",
                participant_id=other.id,
            )


def latest_dossiers(session: Session, limit: int) -> list[Dossier]:
    return list(session.scalars(select(Dossier).order_by(Dossier.id.desc()).limit(limit)))
