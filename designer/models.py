"""Sequences: one draft each, and immutable numbered versions."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
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
