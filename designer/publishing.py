"""Publishing several sequences together, for libraries whose sequences switch into each other.

`services.publish_version` checks every `seq:next` and `calledElement` against the sequences already
published, so two sequences that switch into each other (S2 → S5 → S2 in the rent-arrears library) can
never be published one after the other. Here each draft is validated as if the others of the batch were
already published, and all of them are published in one transaction, or none.

Stopgap: this belongs in designer/services.py (as `publish_versions`), and `sequences import --publish`
should use it for the files it is given.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bpmn.errors import InvalidSequence, Malformed
from bpmn.spec import build_spec
from bpmn.validation import validate

from .models import SequenceVersion
from .services import get_sequence, published_keys


def publish_together(session: Session, keys: Iterable[str], user_id: int | None,
                     now: datetime) -> list[SequenceVersion]:
    """Publishes the drafts of `keys` as one batch; raises InvalidSequence with every issue of every draft."""
    sequences = [get_sequence(session, key) for key in dict.fromkeys(keys)]
    known = published_keys(session) | {sequence.key for sequence in sequences}
    reports, issues = [], []
    for sequence in sequences:
        if sequence.draft_xml is None:
            raise Malformed(f"La séquence « {sequence.key} » n'a pas de brouillon à publier.")
        report = validate(sequence.draft_xml, known)
        sequence.draft_issues = [i.to_dict() for i in report.issues]
        reports.append(report)
        issues.extend(report.issues)
    if issues:
        raise InvalidSequence(issues)
    versions = []
    for sequence, report in zip(sequences, reports, strict=True):
        data = sequence.draft_xml
        checksum = hashlib.sha256(data).hexdigest()
        latest = sequence.latest
        if latest is not None and latest.checksum == checksum:
            versions.append(latest)  # the same file published twice is not a new version
            continue
        version = SequenceVersion(
            sequence=sequence, number=(latest.number + 1 if latest else 1), name=sequence.name, xml=data,
            checksum=checksum, model=report.model.to_dict(), spec=build_spec(data), published_at=now,
            published_by=user_id)
        session.add(version)
        versions.append(version)
    session.flush()
    return versions
