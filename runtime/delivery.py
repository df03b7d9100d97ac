"""Sending the outbox: `deliver_pending` is called by the worker at every pass.

Exactly once, as far as the receiving side can tell:
1. Claim: due rows become `sending` with this worker's id and a lease, in one short transaction
   (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers never wait for each other; SQLite: the transaction holds
   the single write lock). The attempt is counted at the claim.
2. Send, outside any transaction: SMTP, the PDF of a letter, or the SMS adapter.
3. Mark, in a new transaction, only if the row is still ours: `sent` once the server accepted it, with the
   history entry, and the action completed when it was the last recipient (the run moves on).

A worker that dies between 2 and 3 leaves the row `sending`; when the lease runs out another pass sends it
again with the same Message-ID, generated when it was queued. SMTP cannot do better than at least once,
so a second copy may reach the recipient's server: servers and mail clients that deduplicate on
Message-ID (most do) show it once. Letters and SMS are written in step 3's transaction, so they exist once.

Transient failures (4xx, connection refused, timeout) go back to `queued` with an exponential back-off;
permanent ones (5xx, no usable address) and the last allowed attempt make the row `failed`, and its action
is ended or flagged (runtime.communication_ends). Each of these steps is its own unit of work (kernel.db),
as in runtime.timers.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from kernel.db import unit_of_work

from . import journal
from .communication_ends import awaiting_resolution, resolve
from .communications.channels import SendError, SmsGateway, SmtpSender, SmtpSettings
from .communications.letters import letter_pdf
from .communications.models import Channel, Communication, CommunicationStatus
from .communications.outbox import ACTOR
from .documents import Document
from .journal import Kind
from .models import Action, ActionStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than one SMTP exchange can take (timeout 30 s)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 10
BATCH = 50


@dataclass
class Delivery:
    """What one call of deliver_pending did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    resolved: int = 0
    kept: int = 0


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def deliver_pending(session: Session, now: datetime, config: dict[str, Any] | None = None, *,
                    smtp: dict[str, Any] | None = None, sms: SmsGateway | None = None,
                    worker_id: str | None = None, batch: int = BATCH, lease: timedelta = LEASE) -> Delivery:
    """Sends what is due. `config` holds the SMTP_* values (or pass `smtp` with the same keys in lower case);
    without an SMTP host, emails stay queued in the outbox; without an SMS gateway, so do SMS."""
    settings = SmtpSettings.from_mapping(smtp if smtp is not None else config)
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    channels: list[str] = [Channel.LETTER, *([Channel.EMAIL] if settings.host else []),
                           *([Channel.SMS] if sms else [])]
    done = Delivery()
    done.cancelled = _cancel_orphans(session)
    kept = [c for c, on in ((Channel.EMAIL, settings.host), (Channel.SMS, sms)) if not on]
    done.kept = _keep_in_outbox(session, now, kept)
    ids = claim(session, worker_id, now, channels, batch, lease)
    done.claimed = len(ids)
    sender = SmtpSender(settings)
    try:
        for communication_id in ids:
            try:
                outcome = _deliver_one(session, communication_id, worker_id, now, settings, sender, sms)
            except Exception:  # noqa: BLE001 — the row keeps its lease and is retried when it runs out
                log.exception("communication %s: delivery interrupted", communication_id)
                continue
            if outcome:
                setattr(done, outcome, getattr(done, outcome) + 1)
    finally:
        sender.close()
    done.resolved = _resolve_waiting(session, now)
    return done


def _keep_in_outbox(session: Session, now: datetime, channels: list[str]) -> int:
    """Without a transport for their channel, queued messages are kept in the outbox (the default of a
    single machine with nothing configured): shown on the dossier, and their action is done."""
    if not channels:
        return 0
    query = select(Communication).where(Communication.status == CommunicationStatus.QUEUED,
                                        Communication.channel.in_(channels)).limit(BATCH)
    with unit_of_work(session):
        rows = list(session.scalars(query.with_for_update(skip_locked=True)
                                    .execution_options(populate_existing=True)))
        for communication in rows:
            communication.status, communication.next_attempt_at = CommunicationStatus.KEPT, None
            if communication.dossier_id is None:  # a notification to a user (runtime/notifications.py)
                continue
            journal.record(session, communication.dossier_id, ACTOR.label, Kind.COMMUNICATION_KEPT, now,
                           **_entry(communication), template=communication.template_key,
                           template_version=communication.template_version)
        session.flush()
        for action_id in dict.fromkeys(c.action_id for c in rows if c.action_id is not None):
            resolve(session, action_id, now)
    return len(rows)


def _cancel_orphans(session: Session) -> int:
    """Rows not sent yet whose action has ended (run interrupted, timer, manager): they are not sent."""
    ended = exists().where(Action.id == Communication.action_id, Action.status != ActionStatus.OPEN)
    with unit_of_work(session, fresh=True):
        result = session.execute(update(Communication)
                                 .where(Communication.status == CommunicationStatus.QUEUED, ended)
                                 .values(status=CommunicationStatus.CANCELLED, next_attempt_at=None,
                                         error="action terminée avant l'envoi")
                                 .execution_options(synchronize_session=False))
    return getattr(result, "rowcount", 0) or 0


def claim(session: Session, worker_id: str, now: datetime, channels: list[str], limit: int = BATCH,
          lease: timedelta = LEASE) -> list[int]:
    """Takes up to `limit` due rows for this worker until `now + lease`, and commits. A row left `sending`
    by a worker whose lease ran out is due again."""
    if not channels:
        with unit_of_work(session, fresh=True):  # as a claim would: nothing of the pass stays open
            return []
    due = or_(and_(Communication.status == CommunicationStatus.QUEUED, Communication.next_attempt_at <= now),
              and_(Communication.status == CommunicationStatus.SENDING, Communication.claimed_until < now))
    query = (select(Communication.id).where(Communication.channel.in_(channels), due)
             .order_by(Communication.next_attempt_at, Communication.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with unit_of_work(session, fresh=True):
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(Communication).where(Communication.id.in_(ids))
                            .values(status=CommunicationStatus.SENDING, claimed_by=worker_id,
                                    claimed_until=now + lease, attempts=Communication.attempts + 1)
                            .execution_options(synchronize_session=False))
    return ids


def _deliver_one(session: Session, communication_id: int, worker_id: str, now: datetime,
                 settings: SmtpSettings, sender: SmtpSender, sms: SmsGateway | None) -> str | None:
    with unit_of_work(session):  # ended before the send: no transaction stays open during it
        communication = session.get(Communication, communication_id, populate_existing=True)
        if communication is None or not _ours(communication, worker_id):
            return None
        session.expunge(communication)  # read while detached
    pdf = None
    try:
        if communication.channel == Channel.EMAIL:
            sender.send(communication)
        elif communication.channel == Channel.SMS:
            if sms is None:
                raise SendError("aucune passerelle SMS configurée", permanent=False)
            sms.send(communication)
        else:
            pdf = letter_pdf(communication, now, sender=None)
    except SendError as error:
        with unit_of_work(session):
            return _finish_failed(session, communication_id, worker_id, now, error)
    with unit_of_work(session):
        return _finish_sent(session, communication_id, worker_id, now, pdf)


def _ours(communication: Communication, worker_id: str) -> bool:
    return communication.status == CommunicationStatus.SENDING and communication.claimed_by == worker_id


def _locked(session: Session, communication_id: int, worker_id: str) -> Communication | None:
    query = select(Communication).where(Communication.id == communication_id).execution_options(
        populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    communication = session.scalar(query)
    # Another worker took it over after our lease ran out, and may already have marked it.
    return communication if communication is not None and _ours(communication, worker_id) else None


def _finish_sent(session: Session, communication_id: int, worker_id: str, now: datetime,
                 pdf: bytes | None) -> str | None:
    communication = _locked(session, communication_id, worker_id)
    if communication is None:
        return None
    if pdf is not None:
        document = Document(dossier_id=communication.dossier_id, action_id=communication.action_id,
                            filename=f"{communication.template_key or 'courrier'}-{communication.id}.pdf",
                            content_type="application/pdf", size=len(pdf), data=pdf, uploaded_by=ACTOR.label,
                            created_at=now)
        session.add(document)
        session.flush()
        communication.document_id = document.id
    communication.status, communication.sent_at, communication.error = CommunicationStatus.SENT, now, None
    communication.claimed_by = communication.claimed_until = communication.next_attempt_at = None
    if communication.dossier_id is not None:  # notifications to users belong to no dossier's history
        journal.record(session, communication.dossier_id, ACTOR.label, Kind.COMMUNICATION_SENT, now,
                       **_entry(communication), template=communication.template_key,
                       template_version=communication.template_version, document_id=communication.document_id)
    if communication.action_id is not None:
        resolve(session, communication.action_id, now)
    return "sent"


def _finish_failed(session: Session, communication_id: int, worker_id: str, now: datetime,
                   error: SendError) -> str | None:
    communication = _locked(session, communication_id, worker_id)
    if communication is None:
        return None
    communication.claimed_by = communication.claimed_until = None
    if not error.permanent and communication.attempts < MAX_ATTEMPTS:
        communication.status, communication.error = CommunicationStatus.QUEUED, error.message
        communication.next_attempt_at = now + backoff(communication.attempts)
        return "retried"
    reason = error.message if error.permanent else f"abandon après {communication.attempts} tentatives : " \
                                                    f"{error.message}"
    communication.status, communication.error = CommunicationStatus.FAILED, reason
    communication.failed_at, communication.next_attempt_at = now, None
    if communication.dossier_id is not None:
        journal.record(session, communication.dossier_id, ACTOR.label, Kind.COMMUNICATION_FAILED, now,
                       **_entry(communication), reason=reason)
    if communication.action_id is not None:
        resolve(session, communication.action_id, now)
    return "failed"


def _entry(c: Communication) -> dict:
    return {"run_id": c.run_id, "action_id": c.action_id, "communication_id": c.id,
            "participant_id": c.participant_id, "to": c.recipient_name, "address": c.to_address,
            "channel": c.channel, "message_id": c.message_id, "attempts": c.attempts}


def _resolve_waiting(session: Session, now: datetime) -> int:
    """Actions whose rows all ended without passing through a delivery (no recipient, no address...)."""
    resolved = 0
    with unit_of_work(session, fresh=True):
        waiting = list(session.scalars(awaiting_resolution().limit(BATCH)))
    for action_id in waiting:
        try:
            with unit_of_work(session):
                if resolve(session, action_id, now):
                    resolved += 1
        except Exception:  # noqa: BLE001 — one action must not stop the others (rolled back)
            log.exception("communication action %s: could not be resolved", action_id)
    return resolved
