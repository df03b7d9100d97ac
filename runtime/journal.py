"""The dossier history: append-only, one entry per state change, written in the change's transaction."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from designer.db import Base


class Kind(StrEnum):
    DOSSIER_CREATED = "dossier_created"
    DOSSIER_UPDATED = "dossier_updated"
    PARTICIPANT_ADDED = "participant_added"
    PARTICIPANT_UPDATED = "participant_updated"
    RUN_LAUNCHED = "run_launched"
    RUN_COMPLETED = "run_completed"
    RUN_INTERRUPTED = "run_interrupted"
    RUN_SWITCHED = "run_switched"
    RUN_FAILED = "run_failed"
    RUN_RETRIED = "run_retried"
    RUN_MOVED_BACK = "run_moved_back"
    ACTION_CREATED = "action_created"
    ACTION_COMPLETED = "action_completed"
    ACTION_CANCELLED = "action_cancelled"
    ACTION_ADDED = "action_added"
    ROLE_CHANGED = "role_changed"
    EVENT_RECEIVED = "event_received"
    TIMER_SCHEDULED = "timer_scheduled"
    TIMER_FIRED = "timer_fired"
    COMMUNICATION_QUEUED = "communication_queued"
    COMMUNICATION_SENT = "communication_sent"
    COMMUNICATION_FAILED = "communication_failed"


class JournalEntry(Base):
    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_dossier_id", "dossier_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "run_id": self.run_id,
            "action_id": self.action_id,
            "data": self.data,
        }


def record(
    session: Session,
    dossier_id: int,
    actor: str,
    what: Kind,
    at: datetime,
    *,
    run_id: int | None = None,
    action_id: int | None = None,
    **data,
) -> JournalEntry:
    entry = JournalEntry(
        dossier_id=dossier_id,
        run_id=run_id,
        action_id=action_id,
        at=at,
        actor=actor,
        kind=what.value,
        data=data,
    )
    session.add(entry)
    return entry
