"""Who must act on each open action, kept as rows per user so that an inbox is one index range; and the
open actions whose role nobody holds in their run (« Sans titulaire »), kept as rows of their own for the
same reason.

Who must act is still decided by the run's current role holders: these rows are rewritten in the same
transaction whenever an action opens or ends, whenever a role's holders change and whenever a run moves to
another version. Each row also keeps what the inbox filters, counts and sorts on (the action's role and
dossier, its dossier's reference, which never changes, and its run's version), so that an inbox reads
these tables alone."""

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base

from .models import Action, ActionStatus, Participant, Run, RunRole

_KEPT = ["role", "version_id", "dossier_id"]  # what an index of these rows also holds, for the counts


class Assignment(Base):
    __tablename__ = "action_assignees"
    __table_args__ = (
        Index("ix_action_assignees_inbox", "user_id", "due_at", "action_id", postgresql_include=_KEPT),
        Index(
            "ix_action_assignees_by_dossier",
            "user_id",
            "reference",
            "due_at",
            "action_id",
            postgresql_include=_KEPT,
        ),
    )

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    due_at: Mapped[datetime | None]
    # Copies of the action's role and dossier and of its run's version, written with the row.
    role: Mapped[str | None] = mapped_column(String(100))
    version_id: Mapped[int | None]
    dossier_id: Mapped[int | None]
    reference: Mapped[str | None] = mapped_column(String(100))  # the dossier's


class Unheld(Base):
    """An open action whose role nobody holds in its run (no participant at all, user or not), with the same
    copies as an assignment row."""

    __tablename__ = "unheld_actions"
    __table_args__ = (
        Index("ix_unheld_actions_due", "due_at", "action_id", postgresql_include=_KEPT),
        Index("ix_unheld_actions_by_dossier", "reference", "due_at", "action_id", postgresql_include=_KEPT),
    )

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    due_at: Mapped[datetime | None]
    role: Mapped[str | None] = mapped_column(String(100))
    version_id: Mapped[int | None]
    dossier_id: Mapped[int | None]
    reference: Mapped[str | None] = mapped_column(String(100))


_ASSIGN = insert(Assignment.__table__)
_UNASSIGN = delete(Assignment.__table__).where(
    Assignment.__table__.c.action_id.in_(bindparam("ids", expanding=True))
)
_HOLD = insert(Unheld.__table__)
_HELD = delete(Unheld.__table__).where(Unheld.__table__.c.action_id.in_(bindparam("ids", expanding=True)))


def _users_holding(session: Session, run_id: int, role: str) -> list[int]:
    query = (
        select(Participant.user_id)
        .join(RunRole, RunRole.participant_id == Participant.id)
        .where(RunRole.run_id == run_id, RunRole.role == role, Participant.user_id.is_not(None))
        .distinct()
    )
    return list(session.scalars(query))


def users_to_act(run: Run, role: str) -> list[int]:
    """The users holding `role` in the run (read from the run's holders): who must act on its actions."""
    return sorted({h.participant.user_id for h in run.holders if h.role == role and h.participant.user_id})


def held(run: Run, role: str) -> bool:
    """Whether anyone (a user or not) holds `role` in the run."""
    return any(h.role == role for h in run.holders)


def _copied(action: Action, run: Run) -> dict:
    """What a row keeps of its action, run and dossier for the inbox."""
    return {
        "role": action.role,
        "version_id": run.version_id,
        "dossier_id": action.dossier_id,
        "reference": run.dossier.reference,
    }


def assign(session: Session, action: Action, run: Run) -> None:
    """An action opened: the users holding its role in its run must act (read from the run's holders); when
    nobody holds the role, the action is listed as held by nobody."""
    users = users_to_act(run, action.role)
    if users or not held(run, action.role):
        row = {"action_id": action.id, "due_at": action.due_at, **_copied(action, run)}
        if users:
            session.connection().execute(_ASSIGN, [{**row, "user_id": u} for u in users])
        else:
            session.connection().execute(_HOLD, [row])


def inserted_and_assigned(insert_action):
    """PostgreSQL: one statement inserting an action (`insert_action`, an INSERT whose values are parameters)
    and its assignees, the users of the parameter `assignees`, with what they keep for the inbox (the run's
    version and its dossier's reference: the parameters `run_version_id`, `run_reference`); it answers the
    action's id. Built once, run for each action."""
    actions = Action.__table__.c
    kept = (actions.id, actions.due_at, actions.role, actions.dossier_id)
    new = insert_action.returning(*kept).cte("new_action")
    table = Assignment.__table__
    who = select(
        new.c.id,
        func.unnest(bindparam("assignees", type_=ARRAY(Integer))),
        new.c.due_at,
        new.c.role,
        bindparam("run_version_id", type_=table.c.version_id.type),
        new.c.dossier_id,
        bindparam("run_reference", type_=table.c.reference.type),
    )
    columns = ["action_id", "user_id", "due_at", "role", "version_id", "dossier_id", "reference"]
    assigned = insert(table).from_select(columns, who).cte("assigned")
    return select(new.c.id).add_cte(assigned)


def unassigning(ending, prefix: str = ""):
    """PostgreSQL: `ending` (an UPDATE ending the action of the parameter `<prefix>action_id`) with, in the
    same statement, nobody left to act on that action (and the action no longer listed as held by nobody)."""
    ended = [
        delete(table).where(table.c.action_id == bindparam(f"{prefix}action_id")).cte(f"{prefix}{name}")
        for table, name in ((Assignment.__table__, "unassigned"), (Unheld.__table__, "unlisted"))
    ]
    return ending.add_cte(*ended)


def unassign(session: Session, action_ids: list[int], unheld: bool = True) -> None:
    """Actions ended: nobody has to act on them any more (PostgreSQL: in one statement). `unheld`: False when
    their roles are known to be held, so that they cannot be listed as held by nobody."""
    if not action_ids:
        return
    ids = {"ids": list(action_ids)}
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_UNASSIGN.add_cte(_HELD.cte("unlisted")), ids)
        return
    session.connection().execute(_UNASSIGN, ids)
    if unheld:
        session.connection().execute(_HELD, ids)


def reassign_role(session: Session, run: Run, role: str) -> None:
    """A role's holders changed: its open actions in the run move at once."""
    session.flush()
    open_ids = select(Action.id).where(
        Action.run_id == run.id, Action.role == role, Action.status == ActionStatus.OPEN
    )
    session.execute(delete(Assignment).where(Assignment.action_id.in_(open_ids)))
    session.execute(delete(Unheld).where(Unheld.action_id.in_(open_ids)))
    users = _users_holding(session, run.id, role)
    actions = list(session.scalars(select(Action).where(Action.id.in_(open_ids))))
    rows = [{"action_id": a.id, "due_at": a.due_at, **_copied(a, run)} for a in actions]
    if users and rows:
        session.connection().execute(_ASSIGN, [{**row, "user_id": u} for row in rows for u in users])
    elif rows and not held(run, role):
        session.connection().execute(_HOLD, rows)
