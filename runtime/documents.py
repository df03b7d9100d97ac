"""Documents of a dossier: attached to an action (a partner's proof of service, a signed plan, a photo added
before completing), or uploaded to the dossier by its managers, who choose which are shared with the
partners of the dossier. A partner sees the documents of the actions they hold and the shared ones of the
dossiers they hold a role in; nothing else exists for them.

Stored in the database next to the history they belong to, so a dossier is backed up in one place."""

from datetime import datetime
from pathlib import PurePath

from sqlalchemy import ForeignKey, Index, LargeBinary, String, delete, exists, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from kernel.db import Base
from kernel.errors import Malformed, NotFound, TooLarge, UnsupportedType

from . import journal
from .actors import Actor
from .journal import Kind
from .models import Action
from .notices import DocumentShare

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 3
# Shown in the page (an <img>, or the browser's PDF viewer in a frame) rather than only downloaded.
PREVIEWED = {"application/pdf", "image/png", "image/jpeg"}
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


def check_uploads(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Checks every file before anything is written: a refused file refuses the whole form, naming it."""
    if len(files) > MAX_FILES:
        raise Malformed(f"{MAX_FILES} fichiers au plus à la fois.", field="files")
    for filename, data in files:
        try:
            check_upload(filename, data)
        except (Malformed, TooLarge, UnsupportedType) as error:
            error.details.setdefault("field", "files")
            raise
    return files


def add_documents(session: Session, dossier_id: int, actor: Actor, files: list[tuple[str, bytes]],
                  now: datetime, *, action: Action | None = None, shared: bool = False) -> list[Document]:
    """Files added to the dossier (by a manager) or to one of its actions (by its holder, open or not), each
    an entry of the history; `shared`: shown to the dossier's partners at once."""
    added = []
    for filename, data in check_uploads(files):
        name, content_type = check_upload(filename, data)
        document = Document(dossier_id=dossier_id, action_id=action.id if action else None, filename=name,
                            content_type=content_type, size=len(data), data=data, uploaded_by=actor.label,
                            created_at=now)
        session.add(document)
        session.flush()
        journal.record(session, dossier_id, actor.label, Kind.DOCUMENT_ADDED, now,
                       action_id=action.id if action else None, run_id=action.run_id if action else None,
                       document_id=document.id, name=name, size=len(data))
        if shared:
            share(session, document, actor, True, now)
        added.append(document)
    return added


def share(session: Session, document: Document, actor: Actor, shared: bool, now: datetime) -> bool:
    """Shows the document to the dossier's partners, or stops showing it; returns whether it changed."""
    is_shared = session.get(DocumentShare, document.id) is not None
    if is_shared == shared:
        return False
    if shared:
        session.add(DocumentShare(document_id=document.id, shared_by=actor.label, shared_at=now))
    else:
        session.execute(delete(DocumentShare).where(DocumentShare.document_id == document.id))
    session.flush()
    journal.record(session, document.dossier_id, actor.label,
                   Kind.DOCUMENT_SHARED if shared else Kind.DOCUMENT_UNSHARED, now,
                   document_id=document.id, name=document.filename)
    return True


def shared_ids(session: Session, dossier_id: int) -> set[int]:
    query = select(DocumentShare.document_id).join(Document, Document.id == DocumentShare.document_id).where(
        Document.dossier_id == dossier_id)
    return set(session.scalars(query))


def shared_documents(session: Session, dossier_id: int) -> list[Document]:
    query = select(Document).where(Document.dossier_id == dossier_id,
                                   exists().where(DocumentShare.document_id == Document.id))
    return list(session.scalars(query.order_by(Document.id)))


def dossier_document(session: Session, dossier_id: int, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.dossier_id != dossier_id:
        raise NotFound(f"Aucun document {document_id}.")
    return document


def visible_document(session: Session, document_id: int, actor: Actor) -> Document:
    """The document, if the actor may see it: internal users all; a partner those of the actions they hold
    and the shared ones of the dossiers they hold a role in (404 otherwise, as if it did not exist)."""
    from .actions import get_action  # here: the actions' module imports what steps runs
    from .dossiers import visible_dossier_ids

    document = get_document(session, document_id)
    if not actor.is_partner:
        return document
    if document.action_id is not None:
        try:
            get_action(session, document.action_id, actor)
            return document
        except NotFound:
            pass
    if session.get(DocumentShare, document.id) is not None and document.dossier_id in set(
            session.scalars(visible_dossier_ids(session, actor.user_id))):
        return document
    raise NotFound(f"Aucun document {document_id}.")
