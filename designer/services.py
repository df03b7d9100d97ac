"""Drafts, validation and publication of sequences."""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bpmn.validation import Report, validate
from kernel.errors import InvalidSequence, Issue, Malformed, NotFound

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
    return publish_versions(session, [key], user_id, now)[0]


def publish_versions(
    session: Session, keys: Iterable[str], user_id: int | None, now: datetime
) -> list[SequenceVersion]:
    """Publishes several drafts together, all or none. Sequences that switch into each other (S2 → S5 → S2)
    can only be published so: each draft is checked as if the others of the batch were published."""
    sequences = [get_sequence(session, key) for key in dict.fromkeys(keys)]
    known = published_keys(session) | {sequence.key for sequence in sequences}
    reports, by_sequence = [], {}
    for sequence in sequences:
        if sequence.draft_xml is None:
            raise Malformed(f"La séquence « {sequence.key} » n'a pas de brouillon à publier.")
        report = validate(sequence.draft_xml, known)
        sequence.draft_issues = [i.to_dict() for i in report.issues]
        reports.append(report)
        if report.issues:
            by_sequence[sequence.key] = sequence.draft_issues
    if by_sequence:
        error = InvalidSequence([issue for report in reports for issue in report.issues])
        error.details["by_sequence"] = by_sequence
        raise error
    versions = []
    for sequence, report in zip(sequences, reports, strict=True):
        data = sequence.draft_xml
        checksum = hashlib.sha256(data).hexdigest()
        latest = sequence.latest
        if latest is not None and latest.checksum == checksum:
            versions.append(latest)  # publishing the same file twice is not a new version
            continue
        version = SequenceVersion(
            sequence=sequence,
            number=(latest.number + 1 if latest else 1),
            name=sequence.name,
            xml=data,
            checksum=checksum,
            model=report.model.to_dict(),
            spec=report.spec,  # built once, by the validation
            published_at=now,
            published_by=user_id,
        )
        session.add(version)
        sequence.draft_issues = []
        versions.append(version)
    session.flush()
    return versions


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
