"""Every saved draft of a sequence, kept: the newest is the current draft, earlier ones can be restored."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bpmn.xml import BPMN_NS, parse_xml
from kernel.accounts import User
from kernel.errors import DomainError

from .models import Sequence, SequenceDraft

# How far back the list of earlier drafts goes; older entries stay stored.
SHOWN_DAYS = 30
_NOT_DRAWN = ("laneSet", "EventDefinition")


def count_elements(data: bytes) -> int:
    """What the analyst drew: the tasks, events, gateways, flows and lanes of the processes (not the lane sets
    nor the event definitions, which are parts of what is drawn). 0 for a file that cannot be read."""
    try:
        root = parse_xml(data)
    except DomainError:
        return 0
    return sum(
        1
        for process in root.iterchildren(f"{{{BPMN_NS}}}process")
        for element in process.iterdescendants(f"{{{BPMN_NS}}}*")
        if element.get("id") and not element.tag.endswith(_NOT_DRAWN)
    )


def record_draft(
    session: Session,
    sequence: Sequence,
    user_id: int | None,
    now: datetime,
    restored_from: int | None = None,
) -> SequenceDraft:
    """Keeps the sequence's current draft as a new entry of its history."""
    entry = SequenceDraft(
        sequence_id=sequence.id,
        name=sequence.name,
        xml=sequence.draft_xml,
        element_count=count_elements(sequence.draft_xml),
        saved_at=now,
        saved_by=user_id,
        restored_from=restored_from,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class DraftEntry:
    id: int
    name: str
    element_count: int
    saved_at: datetime
    saved_by: str | None
    current: bool
    restored_from: int | None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "element_count": self.element_count,
            "saved_at": self.saved_at.isoformat(),
            "saved_by": self.saved_by,
            "current": self.current,
            "restored_from": self.restored_from,
        }


def list_drafts(session: Session, sequence: Sequence, now: datetime) -> list[DraftEntry]:
    """The drafts saved in the last SHOWN_DAYS days, newest (the current one) first; the current draft is
    listed even when older."""
    newest = select(func.max(SequenceDraft.id)).where(SequenceDraft.sequence_id == sequence.id)
    query = (
        select(SequenceDraft, User.name)
        .outerjoin(User, User.id == SequenceDraft.saved_by)
        .where(SequenceDraft.sequence_id == sequence.id)
        .where(or_(SequenceDraft.saved_at >= now - timedelta(days=SHOWN_DAYS),
                   SequenceDraft.id == newest.scalar_subquery()))
        .order_by(SequenceDraft.id.desc())
    )
    return [
        DraftEntry(draft.id, draft.name, draft.element_count, draft.saved_at, who, index == 0,
                   draft.restored_from)
        for index, (draft, who) in enumerate(session.execute(query))
    ]


def find_draft(session: Session, sequence: Sequence, draft_id: int) -> SequenceDraft | None:
    draft = session.get(SequenceDraft, draft_id)
    return draft if draft is not None and draft.sequence_id == sequence.id else None
