"""Drafts, validation and publication of sequences."""

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bpmn.errors import InvalidSequence, Issue, Malformed, NotFound
from bpmn.spec import build_spec
from bpmn.validation import Report, validate

from .models import Sequence, SequenceVersion


def published_keys(session: Session) -> set[str]:
    query = select(Sequence.key).where(Sequence.versions.any())
    return set(session.scalars(query))


def check(session: Session, data: bytes, for_publication: bool = False) -> Report:
    """Validates a file; called sequences are checked against the published ones only when publishing."""
    return validate(data, published_keys(session) if for_publication else None)


def save_draft(
    session: Session, data: bytes, user_id: int | None, now: datetime
) -> tuple[Sequence, bool, Report]:
    """Creates or replaces the draft of the sequence whose key is the process id. An invalid draft is kept:
    analysts save work in progress; only publication requires a valid file."""
    report = check(session, data)
    if report.model is None or not report.model.key:
        raise InvalidSequence(
            report.issues
            or [Issue(None, "no_executable", "Le fichier ne contient aucun processus exécutable.")]
        )
    key = report.model.key
    sequence = session.scalar(select(Sequence).where(Sequence.key == key))
    created = sequence is None
    if created:
        sequence = Sequence(key=key, name=report.model.name or key, created_at=now)
        session.add(sequence)
    sequence.name = report.model.name or key
    sequence.draft_xml = data
    sequence.draft_issues = [i.to_dict() for i in report.issues]
    sequence.draft_updated_at = now
    sequence.draft_updated_by = user_id
    session.flush()
    return sequence, created, report


def get_sequence(session: Session, key: str) -> Sequence:
    sequence = session.scalar(select(Sequence).where(Sequence.key == key))
    if sequence is None:
        raise NotFound(f"Aucune séquence « {key} ».")
    return sequence


def list_sequences(session: Session) -> list[Sequence]:
    return list(session.scalars(select(Sequence).order_by(Sequence.name, Sequence.key)))


def publish_version(session: Session, key: str, user_id: int | None, now: datetime) -> SequenceVersion:
    """Publishes the draft as the next immutable version; refuses an invalid draft with every issue."""
    sequence = get_sequence(session, key)
    if sequence.draft_xml is None:
        raise Malformed(f"La séquence « {key} » n'a pas de brouillon à publier.")
    data = sequence.draft_xml
    report = check(session, data, for_publication=True)
    if not report.valid:
        sequence.draft_issues = [i.to_dict() for i in report.issues]
        raise InvalidSequence(report.issues)
    checksum = hashlib.sha256(data).hexdigest()
    latest = sequence.latest
    if latest is not None and latest.checksum == checksum:
        return latest  # publishing the same file twice is not a new version
    version = SequenceVersion(
        sequence=sequence,
        number=(latest.number + 1 if latest else 1),
        name=sequence.name,
        xml=data,
        checksum=checksum,
        model=report.model.to_dict(),
        spec=build_spec(data),
        published_at=now,
        published_by=user_id,
    )
    session.add(version)
    sequence.draft_issues = []
    session.flush()
    return version


def get_version(session: Session, key: str, number: int) -> SequenceVersion:
    version = session.scalar(
        select(SequenceVersion).join(Sequence).where(Sequence.key == key, SequenceVersion.number == number)
    )
    if version is None:
        raise NotFound(f"La séquence « {key} » n'a pas de version {number}.")
    return version


def latest_version(session: Session, key: str) -> SequenceVersion:
    version = get_sequence(session, key).latest
    if version is None:
        raise NotFound(f"La séquence « {key} » n'a aucune version publiée.")
    return version
