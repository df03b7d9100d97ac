"""User accounts and API tokens. Every layer refers to users (authors of versions, actors of runs)."""

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from functools import cache

from sqlalchemy import ForeignKey, Select, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from kernel.errors import Conflict, Malformed, NotFound

from .db import Base


class UserKind(StrEnum):
    INTERNAL = "internal"
    PARTNER = "partner"


class UserRole(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    MANAGER = "manager"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_partner(self) -> bool:
        return self.kind == UserKind.PARTNER

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def to_dict(self) -> dict:
        return {"id": self.id, "email": self.email, "name": self.name, "kind": self.kind, "role": self.role}


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, *, email: str, name: str, kind: str, role: str | None, password: str, now: datetime
) -> User:
    email = email.strip().lower()
    if kind not in set(UserKind):
        raise Malformed(f"Type d'utilisateur inconnu : {kind!r} (internal ou partner).")
    if kind == UserKind.INTERNAL and role not in set(UserRole):
        raise Malformed(
            f"Un utilisateur interne doit avoir un rôle : admin, analyst ou manager (reçu {role!r})."
        )
    if kind == UserKind.PARTNER and role:
        raise Malformed("Un partenaire n'a pas de rôle applicatif.")
    if len(password) < 8:
        raise Malformed("Le mot de passe doit compter au moins 8 caractères.")
    if session.scalar(select(User).where(User.email == email)):
        raise Conflict(f"Un utilisateur {email} existe déjà.")
    user = User(
        email=email,
        name=name,
        kind=kind,
        role=role,
        password_hash=generate_password_hash(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def find_user(session: Session, email: str) -> User:
    user = user_by_email(session, email)
    if user is None:
        raise NotFound(f"Aucun utilisateur {email}.")
    return user


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: name for i, name in session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


def create_token(session: Session, user: User, now: datetime) -> str:
    """Returns the token in clear, once; only its hash is stored."""
    token = "seq_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_hash_token(token), created_at=now))
    session.flush()
    return token


@cache  # built once, on first use (once every model is mapped): every API request runs it
def _token_query() -> Select:
    return (
        select(ApiToken)
        .options(joinedload(ApiToken.user, innerjoin=True))
        .where(ApiToken.token_hash == bindparam("h"))
    )


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    found = session.scalar(_token_query(), {"h": _hash_token(token)})
    if found is None or not found.user.active:
        return None
    # Written at most hourly, so that reading the API is not a write per request.
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 3600:
        found.last_used_at = now
    return found.user
