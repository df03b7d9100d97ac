"""Comment threads: one on each action, one on each dossier. Internal users read and write every thread of
the dossiers they see; a partner reads and writes only the threads of the actions they hold (runtime.actions'
rule: anything else is unknown to them). Every comment is also an entry of the dossier's history."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.accounts import User, UserKind, user_names
from kernel.errors import Malformed, NotFound, TooLong

from . import journal
from .actions import get_action
from .actors import Actor
from .journal import Kind
from .models import Action, Dossier
from .notices import Comment

MAX_BODY = 5_000


@dataclass(frozen=True)
class Shown:
    """A comment as the pages show it."""

    id: int
    action_id: int | None
    action_name: str | None
    author: str
    by_partner: bool
    body: str
    at: datetime


def add_comment(
    session: Session, actor: Actor, dossier_id: int, action_id: int | None, body: str, now: datetime
) -> Comment:
    """Adds a comment to the thread of the action (or of the dossier when `action_id` is None)."""
    if not isinstance(body, str) or not body.strip():
        raise Malformed("Le commentaire est vide : écrivez votre message.", field="comment")
    body = body.strip()
    if len(body) > MAX_BODY:
        raise TooLong("comment", "Commentaire", MAX_BODY, len(body))
    if action_id is not None:
        action = get_action(session, action_id, actor)  # a partner's 404 outside the roles they hold
        if action.dossier_id != dossier_id:
            raise NotFound(f"Aucune action {action_id}.")
    elif actor.is_partner:  # a partner writes only on their actions
        raise NotFound(f"Aucun dossier {dossier_id}.")
    elif session.get(Dossier, dossier_id) is None:
        raise NotFound(f"Aucun dossier {dossier_id}.")
    comment = Comment(
        dossier_id=dossier_id,
        action_id=action_id,
        author_id=actor.user_id,
        author=actor.label,
        body=body,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    journal.record(
        session,
        dossier_id,
        actor.label,
        Kind.COMMENT_ADDED,
        now,
        action_id=action_id,
        comment_id=comment.id,
        comment=body[:500],
    )
    return comment


def thread(
    session: Session, dossier_id: int, actor: Actor, action_id: int | None = None, whole_dossier: bool = False
) -> list[Shown]:
    """The thread of an action (checked visible to the actor), of the dossier alone, or, for internal users
    with `whole_dossier`, every comment of the dossier with the action each is about. Oldest first."""
    query = (
        select(Comment, Action.name)
        .outerjoin(Action, Action.id == Comment.action_id)
        .where(Comment.dossier_id == dossier_id)
    )
    if action_id is not None:
        get_action(session, action_id, actor)
        query = query.where(Comment.action_id == action_id)
    elif actor.is_partner:
        raise NotFound(f"Aucun dossier {dossier_id}.")
    elif not whole_dossier:
        query = query.where(Comment.action_id.is_(None))
    rows = list(session.execute(query.order_by(Comment.id)))
    names = user_names(session, {c.author_id for c, _n in rows if c.author_id is not None})
    partners = _partners(session, {c.author_id for c, _n in rows if c.author_id is not None})
    return [
        Shown(
            c.id,
            c.action_id,
            name,
            names.get(c.author_id, c.author),
            c.author_id in partners,
            c.body,
            c.created_at,
        )
        for c, name in rows
    ]


def _partners(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(ids), User.kind == UserKind.PARTNER)))


def commentable_actions(session: Session, dossier_id: int, limit: int = 100) -> list[Action]:
    """The dossier's actions a comment may be about: open ones first, then the latest ended."""
    query = (
        select(Action)
        .where(Action.dossier_id == dossier_id, Action.type != "communication")
        .order_by((Action.status != "open"), Action.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
