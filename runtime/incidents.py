"""Incidents: the runs that failed, what made them fail said plainly, and what a manager can go back to.

A run fails when the engine meets an unexpected error (runtime.runs.guarded): nothing is lost, the run keeps
its state from before the operation, and a manager repairs it (retry, back to a step, an ad hoc action).
Every list here is one query (plus one batched query for the holders), never one per dossier."""

import ast
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion

from .journal import JournalEntry, Kind
from .models import Checkpoint, Dossier, Participant, Run, RunRole, RunStatus
from .specs import model_of

# The role that pilots a dossier (SPEC §1, « gestionnaire »): the person to call about an incident.
MANAGER_ROLE = "gestionnaire"
STEPS_SHOWN = 5


@dataclass
class Incident:
    run_id: int
    dossier_id: int
    reference: str
    title: str
    sequence: str  # the sequence's label
    version: int
    error: str | None
    operation: str | None  # what the run was doing: start, complete, timer, event, restore
    failed_at: datetime | None
    cause: "Cause"
    managers: list[str] = field(default_factory=list)  # who holds the gestionnaire role in the run


@dataclass
class Cause:
    """What made a run fail, for a sentence a manager understands; `detail` keeps the technical error.

    kind: `field_missing` (a dossier field the expression reads is absent), `field_value` (it is there but
    the expression cannot use it), `expression` (an expression failed on something else), `unexpected`."""

    kind: str
    detail: str
    expression: str | None = None
    fields: list[tuple[str, object]] = field(default_factory=list)  # (key, value) of the fields read
    reason: str | None = None  # the expression's own refusal, already in French
    # `number` when a text field was compared or computed with a number, `date` when date() refused it
    expected: str | None = None


@dataclass
class Step:
    step: int
    labels: list[str]
    reached_at: datetime


def _failed_at():
    """When the run last failed: its last `run_failed` entry, read through the dossier's history index."""
    return (
        select(func.max(JournalEntry.at))
        .where(
            JournalEntry.dossier_id == Run.dossier_id,
            JournalEntry.run_id == Run.id,
            JournalEntry.kind == Kind.RUN_FAILED.value,
        )
        .scalar_subquery()
    )


def _held_by(user_id: int):
    """Runs in which a participant linked to the user holds a role. Checked run by run (a subquery with a
    limit is never turned into a join): failed runs are few, while a manager holds roles in thousands of
    dossiers, and as a join PostgreSQL reads every run's holders (170 ms against 23 ms, 100,000 dossiers)."""
    one = (
        select(RunRole.id)
        .join(Participant, Participant.id == RunRole.participant_id)
        .where(RunRole.run_id == Run.id, Participant.user_id == user_id)
        .limit(1)
        .scalar_subquery()
    )
    return one.is_not(None)


def count_open(session: Session) -> int:
    """Failed runs, for the navigation: one count on the runs' status index."""
    return session.scalar(select(func.count()).select_from(Run).where(Run.status == RunStatus.FAILED)) or 0


def count_for_user(session: Session, user_id: int) -> int:
    """Failed runs on the dossiers the user works on (a role held in the run), in one query."""
    query = select(func.count()).select_from(Run).where(Run.status == RunStatus.FAILED, _held_by(user_id))
    return session.scalar(query) or 0


def count_failed(session: Session, user_id: int) -> tuple[int, int]:
    """(count_open, count_for_user) in one statement: the navigation's and the inbox banner's counts."""
    query = select(func.count(), func.count().filter(_held_by(user_id))).where(Run.status == RunStatus.FAILED)
    every, mine = session.execute(query).one()
    return every, mine


def counts_by_sequence(session: Session) -> dict[str, int]:
    """Sequence key → failed runs."""
    query = (
        select(Sequence.key, func.count(Run.id))
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Run.status == RunStatus.FAILED)
        .group_by(Sequence.key)
    )
    return {key: count for key, count in session.execute(query)}


def list_incidents(session: Session, *, user_id: int | None = None, limit: int = 100) -> list[Incident]:
    """Every failed run, newest failure first; with `user_id`, those on the user's dossiers only.

    The page of runs is chosen first from the failed runs alone (a subquery with a limit), then joined to
    its dossiers by key: joined first, PostgreSQL would read every dossier."""
    failed_at = _failed_at().label("failed_at")
    page = select(Run.id, failed_at).where(Run.status == RunStatus.FAILED)
    if user_id is not None:
        page = page.where(_held_by(user_id))
    page = page.order_by(failed_at.desc().nulls_last(), Run.id.desc()).limit(limit).subquery()
    query = (
        select(
            Run.id,
            Run.dossier_id,
            Dossier.reference,
            Dossier.title,
            Dossier.data,
            SequenceVersion.name,
            SequenceVersion.number,
            Run.error,
            Run.failed_operation,
            page.c.failed_at,
        )
        .select_from(page)
        .join(Run, Run.id == page.c.id)
        .join(Dossier, Dossier.id == Run.dossier_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .order_by(page.c.failed_at.desc().nulls_last(), Run.id.desc())
    )
    found = [
        Incident(
            run_id,
            dossier_id,
            reference,
            title,
            name,
            number,
            error,
            (op or {}).get("op"),
            at,
            cause_of(error, data),
        )
        for run_id, dossier_id, reference, title, data, name, number, error, op, at in session.execute(query)
    ]
    if found:
        names = (
            select(RunRole.run_id, Participant.name)
            .join(Participant, Participant.id == RunRole.participant_id)
            .where(RunRole.run_id.in_([i.run_id for i in found]), RunRole.role == MANAGER_ROLE)
            .order_by(RunRole.id)
        )
        by_run = {i.run_id: i for i in found}
        for run_id, name in session.execute(names):
            by_run[run_id].managers.append(name)
    return found


def journal_mark(session: Session, dossier_id: int) -> int:
    """The id of the dossier's last history entry (0 when none): what an operation records comes after."""
    query = select(func.max(JournalEntry.id)).where(JournalEntry.dossier_id == dossier_id)
    return session.scalar(query) or 0


def failed_since(session: Session, dossier_id: int, mark: int) -> list[Run]:
    """The runs of the dossier that an operation recorded since `mark` left failed (still failed now)."""
    failures = select(JournalEntry.run_id).where(
        JournalEntry.dossier_id == dossier_id,
        JournalEntry.id > mark,
        JournalEntry.kind == Kind.RUN_FAILED.value,
    )
    query = select(Run).where(Run.id.in_(failures), Run.status == RunStatus.FAILED).order_by(Run.id)
    return list(session.scalars(query))


# Stored by the engine's script engine (bpmn/spec.py): « Expression refusée : '<text>' (<why>) ».
_REFUSED = re.compile(
    r"Expression refusée : (?P<text>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") \((?P<why>.*)\)", re.S
)
_NOT_A_DATE = re.compile(r"La date du minuteur n'est pas une date : (?P<text>.+?)\.?\s*$", re.S)
_FIELD = re.compile(r"\bdossier(?:\.(?P<attr>[A-Za-z_]\w*)|\[\s*(?P<key>'[^']*'|\"[^\"]*\")\s*\])")


def cause_of(error: str | None, dossier_data: dict | None) -> Cause:
    """Reads the stored error of a failed run: which expression failed and which dossier fields it reads,
    with their current values (a missing field is the usual culprit)."""
    detail = error or ""
    found = _REFUSED.search(detail)
    timer = _NOT_A_DATE.search(detail) if found is None else None
    if timer is not None:
        # A timer's date computed from the dossier came out empty or not a date (bpmn/spec.py).
        text, reason, expected = timer.group("text").strip(), "la date du minuteur n'est pas une date", "date"
    elif found is None:
        return Cause("unexpected", detail)
    else:
        expected = None
        try:
            text = ast.literal_eval(found.group("text"))
        except (ValueError, SyntaxError):
            text = found.group("text")[1:-1]
        reason = found.group("why").strip().rstrip(".") or None
    data = dossier_data or {}
    keys = []
    for match in _FIELD.finditer(text):
        key = match.group("attr") or match.group("key")[1:-1]
        if key not in keys:
            keys.append(key)
    fields = [(key, data.get(key)) for key in keys]
    if any(key not in data or data[key] in (None, "") for key in keys):
        fields = [(key, data.get(key)) for key in keys if key not in data or data[key] in (None, "")]
        return Cause("field_missing", detail, text, fields, reason)
    if fields:
        return Cause("field_value", detail, text, fields, reason, expected or _expected(fields, reason))
    return Cause("expression", detail, text, [], reason)


# « Comparaison impossible entre 'beaucoup' et 100 », « Calcul impossible entre 'x' et 10 »
_BETWEEN = re.compile(r"impossible entre (?P<left>.+?) et (?P<right>[^:]+?)(?: :|$)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _expected(fields: list[tuple[str, object]], reason: str | None) -> str | None:
    """A text field met a number: the rule expects a number (the usual slip: « 1 200 € » typed as words);
    or date() could not read it."""
    if (reason or "").startswith("date() attend une date"):
        return "date"
    found = _BETWEEN.search(reason or "")
    if found is None or not any(isinstance(value, str) for _key, value in fields):
        return None
    operands = (found.group("left").strip(), found.group("right").strip())
    return "number" if any(_NUMBER.fullmatch(o) for o in operands) else None


def recent_steps(session: Session, run: Run, limit: int = STEPS_SHOWN) -> list[Step]:
    """The steps the run can go back to, latest first, each named by the labels of where it waited. A failed
    run can go back to its current step too: the operation that failed was not applied."""
    last = run.step if run.status == RunStatus.FAILED else run.step - 1
    query = (
        select(Checkpoint.step, Checkpoint.elements, Checkpoint.created_at)
        .where(Checkpoint.run_id == run.id, Checkpoint.step <= last)
        .order_by(Checkpoint.step.desc())
        .limit(limit)
    )
    elements = model_of(run.version).elements
    steps = []
    for step, ids, at in session.execute(query):
        labels = [elements[i].name or i if i in elements else i for i in ids or []]
        steps.append(Step(step, labels, at))
    return steps
