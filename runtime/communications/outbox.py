"""Queuing: when a run reaches a send task, one outbox row per participant holding the lane's role.

Everything here runs inside the engine step that created the action, so the rows, the history entries
and the step commit (or roll back) together. Nothing is sent here: the worker does that (runtime.delivery).
A recipient without an address, or a template that cannot render, gives a row already `failed` with the
reason; the worker then ends or flags the action (runtime.communication_ends)."""

import uuid
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from designer.models import TemplateVersion
from kernel.errors import NotFound

from .. import journal
from ..actors import Actor, system
from ..journal import Kind
from ..models import Action, Participant, Run
from .models import Channel, Communication, CommunicationStatus
from .rendering import RenderError, render
from .templates import latest

ACTOR = system("communication")

LOCAL: ZoneInfo | None
try:
    LOCAL = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # a machine without a time zone database: dates in UTC
    LOCAL = None

ADDRESS_FIELD: dict[str, str] = {Channel.EMAIL: "email", Channel.LETTER: "address", Channel.SMS: "phone"}
MISSING: dict[str, str] = {Channel.EMAIL: "d'adresse e-mail", Channel.LETTER: "d'adresse postale",
                            Channel.SMS: "de téléphone"}


def new_message_id() -> str:
    """Stable for the life of the communication: every retry sends the same Message-ID."""
    return f"<{uuid.uuid4().hex}@sequences.outbox>"


def participant_context(participant: Participant) -> dict:
    return {"name": participant.name, "email": participant.email, "phone": participant.phone,
            "address": participant.address, "kind": participant.kind, "roles": participant.role_keys}


def render_context(run: Run, action: Action, participant: Participant, now: datetime) -> dict:
    data = dict(run.dossier.data or {})
    dossier = {"reference": run.dossier.reference, "title": run.dossier.title, "data": data}
    person = participant_context(participant)
    return {
        "dossier": dossier, "participant": person, "recipient": person,
        "run": {"id": run.id, "sequence": run.version.key, "version": run.version.number,
                "started_at": run.started_at},
        "action": {"id": action.id, "name": action.name, "element_id": action.element_id,
                   "due_at": action.due_at},
        "today": (now.astimezone(LOCAL) if LOCAL else now).date(),
    }


def recipients(run: Run, role: str) -> list[Participant]:
    return [holder.participant for holder in run.holders if holder.role == role]


def queue_for_action(session: Session, run: Run, action: Action, element, now: datetime,
                     actor: Actor | None = None) -> list[Communication]:
    """Renders the send task's template (latest version) for every holder of the action's role and puts
    one row per recipient in the outbox, in the caller's transaction."""
    actor = actor or ACTOR
    channel = (getattr(element, "channel", None) or "").strip()
    key = (getattr(element, "template", None) or "").strip()
    template = latest(session, key) if key else None
    problem = None
    if channel not in set(Channel):
        problem = f"canal d'envoi inconnu : {channel or '(aucun)'}"
    elif template is None:
        problem = f"le modèle « {key} » n'existe pas dans la bibliothèque"
    elif template.channel != channel:
        problem = f"le modèle « {key} » est prévu pour le canal {template.channel}, pas {channel}"
    people = recipients(run, action.role)
    if not people:
        reason = problem or f"aucun destinataire : personne ne tient le rôle « {action.role} »"
        journal.record(session, run.dossier_id, actor.label, Kind.COMMUNICATION_FAILED, now, run_id=run.id,
                       action_id=action.id, channel=channel, role=action.role, template=key or None,
                       reason=reason)
        return []
    queued = []
    for participant in people:
        row = _row(run, action, participant, channel, key, template, now)
        if problem or template is None:
            _fail(row, problem or "modèle introuvable", now)
        else:
            _render_into(row, run, action, participant, template, now)
        session.add(row)
        session.flush()
        queued.append(row)
        who: dict[str, Any] = {
            "run_id": run.id, "action_id": action.id, "communication_id": row.id,
            "participant_id": participant.id, "to": participant.name, "address": row.to_address,
            "channel": channel, "template": key or None, "template_version": row.template_version}
        if row.status == CommunicationStatus.FAILED:
            journal.record(session, run.dossier_id, actor.label, Kind.COMMUNICATION_FAILED, now, **who,
                           reason=row.error)
        else:
            journal.record(session, run.dossier_id, actor.label, Kind.COMMUNICATION_QUEUED, now, **who,
                           message_id=row.message_id)
    return queued


def _row(run: Run, action: Action, participant: Participant, channel: str, key: str,
         template: TemplateVersion | None, now: datetime) -> Communication:
    field = ADDRESS_FIELD.get(channel)
    address = (getattr(participant, field) or "").strip() if field else ""
    return Communication(
        dossier_id=run.dossier_id, run_id=run.id, action_id=action.id, participant_id=participant.id,
        role=action.role, channel=channel, recipient_name=participant.name,
        to_address=address or None,
        template_key=key or None, template_version=template.version if template else None,
        html=bool(template and template.html), status=CommunicationStatus.QUEUED, attempts=0,
        next_attempt_at=now, message_id=new_message_id(), created_at=now)


def _fail(row: Communication, reason: str, now: datetime) -> None:
    row.status, row.error, row.failed_at, row.next_attempt_at = CommunicationStatus.FAILED, reason, now, None


def _render_into(row: Communication, run: Run, action: Action, participant: Participant,
                 template: TemplateVersion, now: datetime) -> None:
    if not row.to_address:
        return _fail(row, f"{participant.name} n'a pas {MISSING[row.channel]}", now)
    if row.channel == Channel.EMAIL and not valid_email(row.to_address):
        return _fail(row, f"adresse e-mail invalide pour {participant.name} : {row.to_address!r}", now)
    context = render_context(run, action, participant, now)
    try:
        # A subject is one header line, whatever the dossier's data holds.
        row.subject = " ".join(render(template.subject or "", context).split())
        row.body = render(template.body, context, html=template.html)
    except RenderError as error:
        where = f" (ligne {error.line})" if error.line else ""
        return _fail(row, f"le modèle « {template.key} » v{template.version} ne s'applique pas à ce dossier"
                          f"{where} : {error.message}", now)
    return None


def valid_email(address: str) -> bool:
    _name, parsed = parseaddr(address)
    local, _, domain = parsed.rpartition("@")
    return bool(parsed == address.strip() and local and "." in domain
                and not any(c.isspace() for c in parsed))


def communications_of(session: Session, dossier_id: int) -> list[Communication]:
    query = select(Communication).where(Communication.dossier_id == dossier_id).order_by(Communication.id)
    return list(session.scalars(query))


def get_communication(session: Session, communication_id: int,
                      dossier_id: int | None = None) -> Communication:
    found = session.get(Communication, communication_id)
    if found is None or (dossier_id is not None and found.dossier_id != dossier_id):
        raise NotFound(f"Aucune communication {communication_id}.")
    return found
