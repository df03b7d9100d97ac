"""Sequences: a current draft each with every earlier draft kept, immutable numbered versions; the
communication templates they name."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base


class Sequence(Base):
    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    draft_xml: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    draft_issues: Mapped[list] = mapped_column(JSON, default=list)
    draft_updated_at: Mapped[datetime | None]
    draft_updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # An archived sequence is no longer launched by hand; what already runs goes on (runtime/runs.py).
    archived_at: Mapped[datetime | None]
    archived_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    versions: Mapped[list["SequenceVersion"]] = relationship(
        back_populates="sequence", order_by="SequenceVersion.number"
    )

    @property
    def latest(self) -> "SequenceVersion | None":
        return self.versions[-1] if self.versions else None


class SequenceVersion(Base):
    """Never updated once written: runs pin one, and its XML is served back byte for byte."""

    __tablename__ = "sequence_versions"
    __table_args__ = (UniqueConstraint("sequence_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    # Heavy and immutable: loaded only when asked for (the runtime caches model and spec by checksum).
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    # What the runtime needs, computed once at publication: the dialect model and the engine spec.
    model: Mapped[dict] = mapped_column(JSON, deferred=True)
    spec: Mapped[dict] = mapped_column(JSON, deferred=True)
    published_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sequence: Mapped[Sequence] = relationship(back_populates="versions")

    @property
    def key(self) -> str:
        return self.sequence.key


class TemplateVersion(Base):
    """One version of a communication template. Never updated: editing a template adds the next version, so
    what a communication was rendered from can always be shown again. Analysts write templates as they draw
    sequences, and a send task names one (seq:template): the library belongs with the sequences, so that
    validation at publication knows it; the runtime renders and sends them (runtime/communications)."""

    __tablename__ = "communication_templates"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    # Email only: the body is HTML (autoescaped), sent with a plain-text alternative.
    html: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
class SequenceDraft(Base):
    """One saved draft: the newest is the sequence's current draft, others can be restored. Never updated, but
    for an autosaved entry while its stretch of work lasts (DraftAutosave)."""

    __tablename__ = "sequence_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    element_count: Mapped[int]
    saved_at: Mapped[datetime]
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The earlier draft this one brings back, when it was saved by a restore.
    restored_from: Mapped[int | None] = mapped_column(ForeignKey("sequence_drafts.id"))


class DraftAutosave(Base):
    """Marks a draft entry written by the editor's autosave. While the same person keeps editing, the next
    autosaves update that entry rather than add one each (designer/drafts.py AUTOSAVE_WINDOW): the history
    keeps one entry per stretch of work, next to every draft saved on purpose."""

    __tablename__ = "sequence_draft_autosaves"

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("sequence_drafts.id", ondelete="CASCADE"), primary_key=True
    )
    # When the stretch of work this entry follows began (its first autosave).
    started_at: Mapped[datetime]


class VersionNote(Base):
    """The release note written when a version was published; kept with it, never updated."""

    __tablename__ = "sequence_version_notes"

    version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"), primary_key=True)
    note: Mapped[str] = mapped_column(Text)
