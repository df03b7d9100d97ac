"""Drafts, validation and publication of sequences."""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from bpmn import di
from bpmn.validation import Report, validate
from bpmn.vocabulary import Term, Vocabulary
from kernel.errors import Conflict, InvalidSequence, Issue, Malformed, NotFound, RuleBroken

from .dictionary import Dictionary, load
from .drafts import find_draft, keep_newest_draft, record_draft
from .models import DraftAutosave, Sequence, SequenceDraft, SequenceVersion, TemplateVersion, VersionNote


def published_keys(session: Session) -> set[str]:
    query = select(Sequence.key).where(Sequence.versions.any())
    return set(session.scalars(query))


def template_channels(session: Session) -> dict[str, str]:
    """Template key -> channel of its latest version: what a send task may name (seq:template)."""
    newest = select(TemplateVersion.key, func.max(TemplateVersion.version)).group_by(TemplateVersion.key)
    query = select(TemplateVersion.key, TemplateVersion.channel).where(
        tuple_(TemplateVersion.key, TemplateVersion.version).in_(newest)
    )
    return {key: channel for key, channel in session.execute(query)}


def vocabulary_of(dictionary: Dictionary) -> Vocabulary:
    """The dictionary as validation reads it (bpmn knows nothing of where it is kept)."""

    def term(entry) -> Term:
        return Term(entry.type, entry.label, tuple(choice.key for choice in entry.choices))

    return Vocabulary(
        roles={key: role.kind for key, role in dictionary.roles.items()},
        fields={key: term(entry) for key, entry in dictionary.fields.items()},
        events={key: {f.key: term(f) for f in event.fields} for key, event in dictionary.events.items()},
    )


def check(session: Session, data: bytes, for_publication: bool = False) -> Report:
    """Validates a file against the dictionary; called sequences and templates are checked against the
    published sequences and the template library only when publishing."""
    words = vocabulary_of(load(session))
    if not for_publication:
        return validate(data, words=words)
    return validate(data, published_keys(session), template_channels(session), words)


class SequenceExists(Conflict):
    code = "sequence_exists"


def find_sequence(session: Session, key: str) -> Sequence | None:
    return session.scalar(select(Sequence).where(Sequence.key == key))


def save_draft(
    session: Session, data: bytes, user_id: int | None, now: datetime, replace: bool = False,
    autosave: bool = False,
) -> tuple[Sequence, bool, Report]:
    """Creates the sequence whose key is the process id, or, with `replace`, gives it a new draft. An invalid
    draft is kept: analysts save work in progress; only publication requires a valid file. A faulty layout is
    repaired.

    Without `replace` an existing sequence is refused (SequenceExists), so that a new diagram or an imported
    file never silently takes the place of someone's work; the very same file again replaces nothing.
    An `autosave` (the editor saving by itself) keeps the history short: see designer/drafts.py."""
    data = di.repaired(data)
    report = check(session, data)
    if report.model is None or not report.model.key:
        raise InvalidSequence(
            report.issues
            or [Issue(None, "no_executable", "Le fichier ne contient aucun processus exécutable.")]
        )
    key = report.model.key
    sequence = find_sequence(session, key)
    created = sequence is None
    if not created and not replace and sequence.draft_xml != data:
        raise SequenceExists(
            f"La séquence « {sequence.name} » a déjà la clé « {key} » : rien n'a été remplacé.",
            key=key,
            name=sequence.name,
        )
    if created:
        sequence = Sequence(key=key, name=report.model.name or key, created_at=now)
        session.add(sequence)
    elif sequence.draft_xml == data:
        if not autosave:
            keep_newest_draft(session, sequence)  # saved on purpose: no autosave may overwrite it now
        return sequence, created, report  # nothing changed: no new draft
    _set_draft(session, sequence, data, report, user_id, now, autosave=autosave and not created)
    return sequence, created, report


def _set_draft(session: Session, sequence: Sequence, data: bytes, report: Report, user_id: int | None,
               now: datetime, restored_from: int | None = None, autosave: bool = False) -> None:
    """Makes `data` the current draft, kept in the history with every earlier one."""
    sequence.name = (report.model.name if report.model else None) or sequence.key
    sequence.draft_xml = data
    sequence.draft_issues = [i.to_dict() for i in report.issues]
    sequence.draft_updated_at = now
    sequence.draft_updated_by = user_id
    session.flush()
    record_draft(session, sequence, user_id, now, restored_from, autosave=autosave)


def restore_draft(session: Session, key: str, draft_id: int, user_id: int | None, now: datetime) -> Sequence:
    """Makes an earlier draft the current one, as a new entry of the history: nothing is deleted."""
    sequence = get_sequence(session, key)
    draft = find_draft(session, sequence, draft_id)
    if draft is None:
        raise NotFound(f"La séquence « {sequence.name} » n'a pas de brouillon n° {draft_id}.")
    if draft.xml != sequence.draft_xml:
        report = check(session, draft.xml)
        _set_draft(session, sequence, draft.xml, report, user_id, now, restored_from=draft.id)
    return sequence


def archive_sequence(session: Session, key: str, user_id: int | None, now: datetime) -> Sequence:
    """No longer offered nor launched by hand; running dossiers, timers and switches by a sequence go on."""
    sequence = get_sequence(session, key)
    if not sequence.versions:
        raise RuleBroken(
            f"« {sequence.name} » n'a jamais été publiée : supprimez son brouillon plutôt que de l'archiver.",
            code="not_published",
        )
    if sequence.archived_at is None:
        sequence.archived_at, sequence.archived_by = now, user_id
        session.flush()
    return sequence


def unarchive_sequence(session: Session, key: str) -> Sequence:
    sequence = get_sequence(session, key)
    sequence.archived_at = sequence.archived_by = None
    session.flush()
    return sequence


def delete_sequence(session: Session, key: str) -> None:
    """Deletes a never-published sequence with its drafts; a published one is archived instead, since runs
    and history point to its versions."""
    sequence = get_sequence(session, key)
    if sequence.versions:
        raise RuleBroken(
            f"« {sequence.name} » a été publiée : elle ne peut pas être supprimée, seulement archivée.",
            code="published_sequence",
        )
    drafts = select(SequenceDraft.id).where(SequenceDraft.sequence_id == sequence.id)
    session.execute(delete(DraftAutosave).where(DraftAutosave.draft_id.in_(drafts)))
    session.execute(delete(SequenceDraft).where(SequenceDraft.sequence_id == sequence.id))
    session.delete(sequence)
    session.flush()


def require_launchable(session: Session, key: str) -> None:
    """Refuses a launch by hand of an archived sequence (422)."""
    sequence = get_sequence(session, key)
    if sequence.archived_at is not None:
        raise RuleBroken(
            f"La séquence « {sequence.name} » est archivée : elle ne peut plus être lancée.",
            code="sequence_archived",
        )


def get_sequence(session: Session, key: str) -> Sequence:
    sequence = find_sequence(session, key)
    if sequence is None:
        raise NotFound(f"Aucune séquence « {key} ».")
    return sequence


def list_sequences(session: Session) -> list[Sequence]:
    """Every sequence, archived ones included (each page decides how to show them)."""
    return list(session.scalars(select(Sequence).order_by(Sequence.name, Sequence.key)))


MAX_NOTE = 5000


def publish_version(session: Session, key: str, user_id: int | None, now: datetime,
                    note: str | None = None) -> SequenceVersion:
    """Publishes the draft as the next immutable version; refuses an invalid draft with every issue. A release
    note (what changed, for whom), when given, is kept with the new version."""
    text = _release_note(note)
    before = get_sequence(session, key).latest
    version = publish_versions(session, [key], user_id, now)[0]
    if text and version is not before:
        session.add(VersionNote(version_id=version.id, note=text))
        session.flush()
    return version


def _release_note(note) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise Malformed("« note » (note de version) doit être un texte.", field="note")
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise Malformed(f"« note » (note de version) : {MAX_NOTE} caractères au plus ({len(text)} reçus).",
                        field="note")
    return text


def release_notes(session: Session, version_ids: Iterable[int]) -> dict[int, str]:
    """Version id -> its release note, for the versions that have one."""
    ids = list(version_ids)
    if not ids:
        return {}
    query = select(VersionNote.version_id, VersionNote.note).where(VersionNote.version_id.in_(ids))
    return dict(session.execute(query).all())


def publish_versions(
    session: Session, keys: Iterable[str], user_id: int | None, now: datetime
) -> list[SequenceVersion]:
    """Publishes several drafts together, all or none. Sequences that switch into each other (S2 → S5 → S2)
    can only be published so: each draft is checked as if the others of the batch were published."""
    sequences = [get_sequence(session, key) for key in dict.fromkeys(keys)]
    known = published_keys(session) | {sequence.key for sequence in sequences}
    templates = template_channels(session)
    words = vocabulary_of(load(session))
    reports, by_sequence = [], {}
    for sequence in sequences:
        if sequence.draft_xml is None:
            raise Malformed(f"La séquence « {sequence.key} » n'a pas de brouillon à publier.")
        report = validate(sequence.draft_xml, known, templates, words)
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
