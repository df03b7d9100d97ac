"""What publishing a new version of a sequence touches: the dossiers whose runs are in progress on its earlier
versions. They keep their version (a run never changes version by itself); the count is what an analyst is
told before publishing, and what moving dossiers to a new version starts from."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion
from designer.services import get_sequence

from .models import Run, RunStatus

# A run stopped on an incident is still in progress: it goes on once repaired.
IN_PROGRESS = (RunStatus.RUNNING, RunStatus.FAILED)


def running_dossiers_by_version(session: Session, key: str) -> dict[int, int]:
    """Version number -> how many dossiers have a run in progress on it (versions without any are left out).
    One query."""
    query = (
        select(SequenceVersion.number, func.count(func.distinct(Run.dossier_id)))
        .join(Run, Run.version_id == SequenceVersion.id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
        .where(Sequence.key == key, Run.status.in_(IN_PROGRESS))
        .group_by(SequenceVersion.number)
        .order_by(SequenceVersion.number)
    )
    return {number: count for number, count in session.execute(query)}


@dataclass(frozen=True)
class PublicationImpact:
    key: str
    next_version: int
    # (version number, dossiers in progress on it), oldest version first
    running: list[tuple[int, int]]

    @property
    def dossiers(self) -> int:
        return sum(count for _number, count in self.running)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "next_version": self.next_version,
            "dossiers": self.dossiers,
            "running": [{"version": number, "dossiers": count} for number, count in self.running],
        }


def publication_impact(session: Session, key: str) -> PublicationImpact:
    """What publishing `key`'s draft now would touch (the sequence must exist: NotFound otherwise)."""
    sequence = get_sequence(session, key)
    latest = sequence.latest
    running = sorted(running_dossiers_by_version(session, key).items())
    return PublicationImpact(key, (latest.number + 1) if latest else 1, running)
