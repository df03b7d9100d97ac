"""Dossiers, their participants, runs, actions and timers."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base


class ParticipantKind(StrEnum):
    INTERNAL = "internal"
    PARTNER = "partner"
    CONTACT = "contact"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    SWITCHED = "switched"
    FAILED = "failed"
    # Stopped before a step for want of a dossier value: an action asks for it (runtime/data_needed.py).
    WAITING_DATA = "waiting_data"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    VALIDATED = "validated"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    FAILED = "failed"


class ActionType(StrEnum):
    TASK = "task"
    REMINDER = "reminder"
    VALIDATION = "validation"
    COMMUNICATION = "communication"


def action_type(element) -> str:
    """The type of the actions a diagram element (bpmn.dialect.Element, or None) opens."""
    return element.action if element is not None and element.action else ActionType.TASK


class Dossier(Base):
    __tablename__ = "dossiers"
    # An inbox sorted by dossier reads the reference of each of its actions' dossiers from the index alone.
    __table_args__ = (Index("ix_dossiers_id_reference", "id", postgresql_include=["reference"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    participants: Mapped[list["Participant"]] = relationship(
        back_populates="dossier", order_by="Participant.id"
    )
    runs: Mapped[list["Run"]] = relationship(back_populates="dossier", order_by="Run.id")


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_user_id_id", "user_id", "id"),)  # a user's participations

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]

    dossier: Mapped[Dossier] = relationship(back_populates="participants")
    roles: Mapped[list["ParticipantRole"]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="ParticipantRole.role"
    )

    @property
    def role_keys(self) -> list[str]:
        return [r.role for r in self.roles]


class ParticipantRole(Base):
    """The roles a participant holds by default on the dossier, used when a run is launched."""

    __tablename__ = "participant_roles"
    __table_args__ = (UniqueConstraint("participant_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(100))

    participant: Mapped[Participant] = relationship(back_populates="roles")


class Run(Base):
    __tablename__ = "runs"
    # The inbox's counts per sequence read each action's run version from the index, not the run's row.
    __table_args__ = (Index("ix_runs_id_version", "id", postgresql_include=["version_id"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING, index=True)
    # The versions of called sequences, pinned at launch: {sequence key: version id}.
    called_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    # The engine's live state without its spec (stored once per version), kept bounded by pruning.
    state: Mapped[dict | None] = mapped_column(JSON)
    # Read by pages and event delivery without loading the engine; refreshed after each engine operation.
    active_elements: Mapped[list] = mapped_column(JSON, default=list)
    waiting_messages: Mapped[list] = mapped_column(JSON, default=list)
    # The last result of each element: what conditions see as actions["<element id>"].
    results: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped at every change: two writers of one run cannot both win.
    revision: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(100))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # The engine operation that failed, replayed when an admin retries the run.
    failed_operation: Mapped[dict | None] = mapped_column(JSON)
    previous_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    next_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    step: Mapped[int] = mapped_column(default=0)

    __mapper_args__ = {"version_id_col": revision}

    dossier: Mapped[Dossier] = relationship(back_populates="runs")
    version = relationship("SequenceVersion")
    holders: Mapped[list["RunRole"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunRole.id"
    )


class RunRole(Base):
    """Who holds each role in one run; changing a row moves the run's open actions at once."""

    __tablename__ = "run_roles"
    __table_args__ = (
        UniqueConstraint("run_id", "role", "participant_id"),
        Index("ix_run_roles_participant_run_role", "participant_id", "run_id", "role"),  # what a user holds
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)

    run: Mapped[Run] = relationship(back_populates="holders")
    # A holder is always shown or used with its participant: they come in the same statement.
    participant: Mapped[Participant] = relationship(lazy="joined", innerjoin=True)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_status_due", "status", "due_at"),
        Index("ix_actions_run_status", "run_id", "status"),
        # Inboxes (runtime/workspace.py): open actions of given (run, role) pairs, read from the index alone.
        Index(
            "ix_actions_open_run_role",
            "run_id",
            "role",
            "due_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # Everyone's open actions by due date (runtime/inbox.py, « Toutes »): a page is the index's head.
        Index(
            "ix_actions_open_due",
            "due_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # A user's inbox (runtime/inbox.py): the role, run and dossier of each assigned open action, read
        # from the index alone for the counts per sequence and role.
        Index(
            "ix_actions_open_id",
            "id",
            postgresql_include=["run_id", "role", "dossier_id"],
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(80))  # the engine task; none for ad hoc actions
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(100), index=True)
    outcomes: Mapped[list] = mapped_column(JSON, default=list)
    adhoc: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    # How due_at was counted, {"fr": ..., "en": ...}: shown next to the date.
    due_note: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    completed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cause: Mapped[str | None] = mapped_column(Text)

    run: Mapped[Run] = relationship()


class Timer(Base):
    """One waiting timer: firing it loads one run, never every waiting run."""

    __tablename__ = "timers"
    __table_args__ = (
        # Only pending timers are ever looked up by due time; fired and cancelled ones stay out of the index.
        Index(
            "ix_timers_pending_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        # A run's pending timers are read at every step: the run's fired and cancelled ones are skipped.
        Index("ix_timers_run_pending", "run_id", "fired_at", "cancelled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime]
    # How due_at was counted, {"fr": ..., "en": ...}: shown next to the date.
    due_note: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)


class Checkpoint(Base):
    """The engine state when a step was reached, so a run can be moved back to it."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int]
    elements: Mapped[list] = mapped_column(JSON)
    state: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]
