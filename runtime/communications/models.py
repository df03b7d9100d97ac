"""The outbox: one row per recipient of a send task. The templates it renders are designer.models'."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"


class CommunicationStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker, under a lease
    SENT = "sent"
    # No transport configured for its channel (no SMTP host, no SMS gateway): it stays in the outbox,
    # visible on the dossier, and counts as performed so that the run goes on.
    KEPT = "kept"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its action ended (run interrupted, timer...) before it went out

    @classmethod
    def pending(cls) -> tuple[str, ...]:
        return (cls.QUEUED, cls.SENDING)


class Communication(Base):
    """The outbox: what was (or will be) sent to one recipient, rendered when the send task was reached."""

    __tablename__ = "communications"
    __table_args__ = (
        Index("ix_communications_status_next", "status", "next_attempt_at"),
        Index("ix_communications_dossier_id", "dossier_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for the notifications sent to users (runtime/notifications.py): they belong to no one dossier.
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    role: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(10))
    recipient_name: Mapped[str | None] = mapped_column(String(300))
    # An email address, a postal address or a phone number, depending on the channel.
    to_address: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[bool] = mapped_column(default=False)
    template_key: Mapped[str | None] = mapped_column(String(100))
    template_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=CommunicationStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    # Generated when queued and reused on every retry: the receiving side deduplicates on it.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # Letters: the PDF, attached to the dossier as a document.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))

    @property
    def ended(self) -> bool:
        return self.status not in CommunicationStatus.pending()
