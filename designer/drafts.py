"""Every saved draft of a sequence, kept: the newest is the current draft, earlier ones can be restored.

The editor also saves the draft by itself (autosave) a few seconds after each change. So that the history
stays a list of moments worth going back to, an autosave does not add an entry each time: while the same
person keeps editing, it updates the newest entry when that entry is an autosave of theirs begun less than
AUTOSAVE_WINDOW ago. A draft saved on purpose (button, Ctrl+S, import, restore) is always a new entry and is
never overwritten by an autosave; someone else's work neither. So an afternoon of editing leaves one entry per
ten minutes of work at most, plus every deliberate save."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bpmn.xml import BPMN_NS, parse_xml
from kernel.accounts import User
from kernel.errors import DomainError

from .models import DraftAutosave, Sequence, SequenceDraft

# How far back the list of earlier drafts goes; older entries stay stored.
SHOWN_DAYS = 30
# How long one autosaved entry follows the same person's editing before the next autosave starts another.
AUTOSAVE_WINDOW = timedelta(minutes=10)
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
    autosave: bool = False,
) -> SequenceDraft:
    """Keeps the sequence's current draft as a new entry of its history; an autosave updates the newest entry
    instead when it is the same person's autosave begun less than AUTOSAVE_WINDOW ago."""
    if autosave:
        following = _autosave_to_follow(session, sequence, user_id, now)
        if following is not None:
            following.name = sequence.name
            following.xml = sequence.draft_xml
            following.element_count = count_elements(sequence.draft_xml)
            following.saved_at = now
            session.flush()
            return following
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
    if autosave:
        session.add(DraftAutosave(draft_id=entry.id, started_at=now))
        session.flush()
    return entry


def keep_newest_draft(session: Session, sequence: Sequence) -> None:
    """The newest entry becomes a draft saved on purpose (a deliberate save of what an autosave had just
    stored): later autosaves add their own entry instead of updating it."""
    newest = select(func.max(SequenceDraft.id)).where(SequenceDraft.sequence_id == sequence.id)
    session.execute(delete(DraftAutosave).where(DraftAutosave.draft_id == newest.scalar_subquery()))


def _autosave_to_follow(session: Session, sequence: Sequence, user_id: int | None,
                        now: datetime) -> SequenceDraft | None:
    newest = session.scalar(
        select(SequenceDraft).where(SequenceDraft.sequence_id == sequence.id)
        .order_by(SequenceDraft.id.desc()).limit(1)
    )
    if newest is None or user_id is None or newest.saved_by != user_id:
        return None
    mark = session.get(DraftAutosave, newest.id)
    return newest if mark is not None and now - mark.started_at < AUTOSAVE_WINDOW else None


@dataclass(frozen=True)
class DraftEntry:
    id: int
    name: str
    element_count: int
    saved_at: datetime
    saved_by: str | None
    current: bool
    restored_from: int | None
    autosaved: bool = False

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "element_count": self.element_count,
            "saved_at": self.saved_at.isoformat(),
            "saved_by": self.saved_by,
            "current": self.current,
            "restored_from": self.restored_from,
            "autosaved": self.autosaved,
        }


def list_drafts(session: Session, sequence: Sequence, now: datetime) -> list[DraftEntry]:
    """The drafts saved in the last SHOWN_DAYS days, newest (the current one) first; the current draft is
    listed even when older."""
    newest = select(func.max(SequenceDraft.id)).where(SequenceDraft.sequence_id == sequence.id)
    query = (
        select(SequenceDraft, User.name, DraftAutosave.draft_id)
        .outerjoin(User, User.id == SequenceDraft.saved_by)
        .outerjoin(DraftAutosave, DraftAutosave.draft_id == SequenceDraft.id)
        .where(SequenceDraft.sequence_id == sequence.id)
        .where(or_(SequenceDraft.saved_at >= now - timedelta(days=SHOWN_DAYS),
                   SequenceDraft.id == newest.scalar_subquery()))
        .order_by(SequenceDraft.id.desc())
    )
    return [
        DraftEntry(draft.id, draft.name, draft.element_count, draft.saved_at, who, index == 0,
                   draft.restored_from, autosaved is not None)
        for index, (draft, who, autosaved) in enumerate(session.execute(query))
    ]


def find_draft(session: Session, sequence: Sequence, draft_id: int) -> SequenceDraft | None:
    draft = session.get(SequenceDraft, draft_id)
    return draft if draft is not None and draft.sequence_id == sequence.id else None
