"""The tables notifications, comments and shared documents keep (runtime/notifications.py, comments.py,
documents.py read and write them). Kept apart so that what opens actions (the step) imports none of the
services that send or show them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base


class Frequency(StrEnum):
    IMMEDIATE = "immediate"  # at the worker's next pass, everything new in one email
    DAILY = "daily"  # one digest a day, at the hour chosen
    NONE = "none"


class NotificationSetting(Base):
    """One user's choice; a user without a row gets emails at once (Frequency.IMMEDIATE)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(20), default=Frequency.IMMEDIATE)
    hour: Mapped[int] = mapped_column(default=8)  # Paris time, for the daily digest
    last_digest_at: Mapped[datetime | None]
    # The last time the user looked at their actions: the navigation counts what was given to them since.
    seen_at: Mapped[datetime | None]


class ActionNotice(Base):
    """A user has been told (or will be, in their digest) that an action is theirs: one row per action and
    user, so that an action is announced once, and a role given later announces it to its new holder."""

    __tablename__ = "action_notices"
    __table_args__ = (
        Index("ix_action_notices_user_at", "user_id", "at"),  # what is new for a user since their last visit
        # What is still to be said: a few rows, whatever the number of actions ever announced.
        Index(
            "ix_action_notices_pending",
            "user_id",
            "action_id",
            postgresql_where=text("NOT sent"),
            sqlite_where=text("NOT sent"),
        ),
    )

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime]
    # False until the email (immediate, or the digest) that names it is in the outbox, or the user wants none.
    sent: Mapped[bool] = mapped_column(default=False)


class FailureNotice(Base):
    """Something the managers of a dossier must hear of: a run failed, a communication failed for good."""

    __tablename__ = "failure_notices"
    __table_args__ = (
        Index(
            "ix_failure_notices_pending",
            "id",
            postgresql_where=text("NOT sent"),
            sqlite_where=text("NOT sent"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    kind: Mapped[str] = mapped_column(String(40))  # run_failed, communication_failed
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    sent: Mapped[bool] = mapped_column(default=False)


class Comment(Base):
    """One message of the thread of an action, or of a dossier when action_id is empty."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_dossier_action", "dossier_id", "action_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[str] = mapped_column(String(100))  # the actor's label, as in the history
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class DocumentShare(Base):
    """A document of the dossier its managers chose to show to the partners of the dossier."""

    __tablename__ = "document_shares"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    shared_by: Mapped[str] = mapped_column(String(100))
    shared_at: Mapped[datetime]
