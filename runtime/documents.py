"""Documents attached to an action when it is completed (a partner's proof of service, a signed plan).

Stored in the database next to the history they belong to, so a dossier is backed up in one place."""

from datetime import datetime
from pathlib import PurePath

from sqlalchemy import ForeignKey, Index, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from kernel.db import Base
from kernel.errors import Malformed, NotFound, TooLarge, UnsupportedType

from .actors import Actor
from .models import Action

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 3
# Extension → the content type we store and serve back (never the one the browser claims).
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain",
}
# The first bytes each kind of file starts with: a renamed executable is not a PDF.
_MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
}


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_dossier_id", "dossier_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # Deferred: lists of documents never load their bytes.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


def clean_filename(filename: str) -> str:
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?')
    return name[-200:] or "document"


def content_type_of(filename: str, data: bytes) -> str:
    """The stored type, from the extension and checked against the file's first bytes."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    content_type = ALLOWED_TYPES.get(extension)
    if content_type is None:
        raise UnsupportedType(
            f"Type de fichier refusé pour « {filename} » : PDF, PNG, JPEG, DOCX ou TXT seulement."
        )
    magic = _MAGIC.get(content_type)
    if magic and not data.startswith(magic):
        raise UnsupportedType(f"Le fichier « {filename} » n'est pas un {extension.upper()} valide.")
    if content_type == "text/plain" and b"\x00" in data[:4096]:
        raise UnsupportedType(f"Le fichier « {filename} » n'est pas un texte.")
    return content_type


def check_upload(filename: str, data: bytes) -> tuple[str, str]:
    """(clean name, content type), or a refusal an end user understands."""
    name = clean_filename(filename)
    if len(data) > MAX_BYTES:
        raise TooLarge(f"Le fichier « {name} » dépasse {MAX_BYTES // (1024 * 1024)} Mo.")
    if not data:
        raise Malformed(f"Le fichier « {name} » est vide.")
    return name, content_type_of(name, data)


def attach(
    session: Session, action: Action, actor: Actor, filename: str, data: bytes, now: datetime
) -> Document:
    name, content_type = check_upload(filename, data)
    document = Document(
        dossier_id=action.dossier_id,
        action_id=action.id,
        filename=name,
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_by=actor.label,
        created_at=now,
    )
    session.add(document)
    session.flush()
    return document


def documents_of(session: Session, dossier_id: int, action_ids: list[int] | None = None) -> list[Document]:
    query = select(Document).where(Document.dossier_id == dossier_id)
    if action_ids is not None:
        query = query.where(Document.action_id.in_(action_ids or [-1]))
    return list(session.scalars(query.order_by(Document.id)))


def get_document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"Aucun document {document_id}.")
    return document
