"""Telling people: the holders of an action that became theirs, a digest of their open and overdue actions,
and the managers of a dossier when a run or a communication fails for good.

Who must act is what runtime.assignments keeps (one row per open action and user, rewritten whenever an action
opens or a role changes hands): an assignment nobody was told of yet is an action to announce, whether the
action has just opened or its role was given to someone later. The step itself writes nothing more.

`queue_due` is called by the worker at every pass. It turns what is to be said into emails in the outbox
(runtime/delivery.py sends them: once, retried, shown to admins on the notifications page), ONE email per
user per pass or per digest, whatever the number of actions: a hundred actions opened at once for one bailiff
make one email. Each user chooses (`Frequency`): at once, a daily digest at an hour of their choice (Paris
time), or nothing."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import and_, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bpmn.durations import PARIS
from kernel.accounts import User, UserKind, UserRole
from kernel.errors import RuleBroken

from .assignments import Assignment
from .communications.models import Channel, Communication, CommunicationStatus
from .communications.outbox import new_message_id, valid_email
from .models import Action, ActionStatus, Dossier, Participant, ParticipantKind
from .notices import ActionNotice, FailureNotice, Frequency, NotificationSetting

TEMPLATE = "notification"  # the outbox's template_key of these emails: how admins find them
SHOWN = 100  # actions listed in one email; the rest are counted
_LOCK = 7_301_919  # PostgreSQL advisory lock: one pass queues at a time across workers


@dataclass
class Links:
    """Builds the deep links of the emails (the app's address comes from the configuration)."""

    base_url: str

    def action(self, action: Action, partner: bool) -> str:
        base = self.base_url.rstrip("/")
        if partner:
            return f"{base}/portal/actions/{action.id}"
        return f"{base}/dossiers/{action.dossier_id}#action-{action.id}"

    def dossier(self, dossier_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/dossiers/{dossier_id}"

    def profile(self, partner: bool) -> str:
        return f"{self.base_url.rstrip('/')}{'/portal' if partner else ''}/profile"


@dataclass
class Queued:
    emails: int = 0
    announced: int = 0  # action notices covered by an email
    silenced: int = 0  # notices of users who want none
    failures: int = 0
    digests: int = 0
    to: list[str] = field(default_factory=list)


# ---- preferences ------------------------------------------------------------------------------------------


def setting_of(session: Session, user_id: int) -> NotificationSetting:
    """The user's choice; without a row, emails at once (not added to the session)."""
    found = session.get(NotificationSetting, user_id)
    return found or NotificationSetting(user_id=user_id, frequency=Frequency.IMMEDIATE, hour=8)


def set_preferences(
    session: Session, user_id: int, frequency: str, hour, now: datetime
) -> NotificationSetting:
    if frequency not in set(Frequency):
        raise RuleBroken(
            "Fréquence inconnue : choisissez immédiatement, un récapitulatif quotidien ou aucun e-mail.",
            code="invalid_field",
            field="frequency",
        )
    try:
        hour = int(hour)
    except (TypeError, ValueError):
        hour = -1
    if not 0 <= hour <= 23:
        raise RuleBroken(
            "L'heure du récapitulatif doit être entre 0 et 23 h.", code="invalid_field", field="hour"
        )
    setting = session.get(NotificationSetting, user_id)
    if setting is None:
        setting = NotificationSetting(user_id=user_id)
        session.add(setting)
    if frequency == Frequency.DAILY and setting.frequency != Frequency.DAILY:
        setting.last_digest_at = now  # the first digest comes at the next hour chosen, not at once
    setting.frequency, setting.hour = frequency, hour
    session.flush()
    return setting


# ---- "new since your last visit" --------------------------------------------------------------------------


def new_count(session: Session, user_id: int) -> int:
    """Open actions given to the user since they last looked at their actions (one statement)."""
    seen = select(NotificationSetting.seen_at).where(NotificationSetting.user_id == user_id).scalar_subquery()
    query = (
        select(func.count())
        .select_from(ActionNotice)
        .join(
            Assignment,
            and_(Assignment.action_id == ActionNotice.action_id, Assignment.user_id == ActionNotice.user_id),
        )
        .where(ActionNotice.user_id == user_id, ActionNotice.at > func.coalesce(seen, datetime(1970, 1, 1)))
    )
    return session.scalar(query) or 0


def mark_seen(session: Session, user_id: int, now: datetime) -> datetime | None:
    """The user looks at their actions now; returns when they last did (None: never)."""
    setting = session.get(NotificationSetting, user_id)
    if setting is None:
        session.add(NotificationSetting(user_id=user_id, frequency=Frequency.IMMEDIATE, hour=8, seen_at=now))
        session.flush()
        return None
    before, setting.seen_at = setting.seen_at, now
    session.flush()
    return before


def note_visit(session: Session, user_id: int, now: datetime) -> bool:
    """The user looks at their actions now, in one statement: what was new no longer is. False when the seen
    time stayed: then no action is new (`new_count` is 0 without asking).

    The seen time moves only when a notice came after it (or was never set): every count and list of new
    actions reads the notices later than it, so moving it over no notice would change none of them, and most
    visits then write nothing (a transaction without writes commits without waiting for the disk)."""
    setting = NotificationSetting.__table__
    news = exists().where(ActionNotice.user_id == user_id, ActionNotice.at > setting.c.seen_at)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(setting).values(
        user_id=user_id, frequency=Frequency.IMMEDIATE, hour=8, seen_at=now
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[setting.c.user_id],
        set_={"seen_at": upsert.excluded.seen_at},
        where=or_(setting.c.seen_at.is_(None), news),
    )
    return session.execute(upsert.returning(setting.c.user_id)).first() is not None  # a row written


def new_since(session: Session, user_id: int, since: datetime | None) -> set[int]:
    """The open actions given to the user after `since` (all of them when None)."""
    query = (
        select(ActionNotice.action_id)
        .join(
            Assignment,
            and_(Assignment.action_id == ActionNotice.action_id, Assignment.user_id == ActionNotice.user_id),
        )
        .where(ActionNotice.user_id == user_id)
    )
    if since is not None:
        query = query.where(ActionNotice.at > since)
    return set(session.scalars(query))


# ---- failures managers must hear of -----------------------------------------------------------------------


def note_failure(
    session: Session,
    dossier_id: int | None,
    kind: str,
    text_: str,
    now: datetime,
    *,
    run_id: int | None = None,
    action_id: int | None = None,
) -> None:
    """Kept in the caller's transaction; the worker's next pass tells the dossier's managers."""
    if dossier_id is None:
        return
    session.add(
        FailureNotice(
            dossier_id=dossier_id,
            run_id=run_id,
            action_id=action_id,
            kind=kind,
            text=text_[:2000],
            at=now,
            sent=False,
        )
    )


def managers_of(session: Session, dossier_ids: set[int]) -> dict[int, list[User]]:
    """The managers to tell about a dossier: its internal participants whose account manages or administers;
    a dossier without one: every active manager."""
    found: dict[int, list[User]] = defaultdict(list)
    if not dossier_ids:
        return found
    rows = session.execute(
        select(Participant.dossier_id, User)
        .join(User, User.id == Participant.user_id)
        .where(
            Participant.dossier_id.in_(dossier_ids),
            Participant.kind == ParticipantKind.INTERNAL,
            User.active.is_(True),
            User.role.in_([UserRole.MANAGER, UserRole.ADMIN]),
        )
        .order_by(User.id)
    )
    for dossier_id, user in rows:
        if user not in found[dossier_id]:
            found[dossier_id].append(user)
    if any(d not in found for d in dossier_ids):
        everyone = list(
            session.scalars(
                select(User).where(User.active.is_(True), User.role == UserRole.MANAGER).order_by(User.id)
            )
        )
        for dossier_id in dossier_ids:
            found.setdefault(dossier_id, everyone)
    return found


# ---- the worker's pass ------------------------------------------------------------------------------------


def queue_due(session: Session, now: datetime, links: Links) -> Queued:
    """Puts in the outbox what is to be said now; in the caller's transaction (the worker commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    done = Queued()
    _discover(session, now)
    pending = _pending_actions(session)
    failures = _pending_failures(session)
    users = _users(session, set(pending) | {u.id for rows in failures.values() for u in rows[1]})
    settings = {
        s.user_id: s
        for s in session.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id.in_(set(users) or [-1]))
        )
    }
    failures_by_user: dict[int, list[FailureNotice]] = defaultdict(list)
    for _dossier_id, (notices, managers) in failures.items():
        for manager in managers:
            failures_by_user[manager.id].extend(notices)
    told: list[int] = [u for u in pending if u not in users]  # accounts closed since: nothing to send
    for user_id, user in users.items():
        setting = settings.get(user_id)
        frequency = setting.frequency if setting else Frequency.IMMEDIATE
        actions = pending.get(user_id, [])
        failed = failures_by_user.get(user_id, [])
        if frequency == Frequency.NONE or not valid_email(user.email or ""):
            done.silenced += len(actions)
            told.append(user_id)
            continue
        if frequency == Frequency.DAILY:
            if failed:  # a failure does not wait for tomorrow's digest
                _queue(session, user, *_failure_email(user, failed, links), now)
                done.emails += 1
                done.to.append(user.email)
            continue  # the actions wait for the digest
        subject, body = _assigned_email(user, actions, failed, links, now)
        _queue(session, user, subject, body, now)
        done.emails += 1
        done.announced += len(actions)
        done.to.append(user.email)
        told.append(user_id)
    if told:
        session.execute(
            update(ActionNotice)
            .where(ActionNotice.user_id.in_(told), ActionNotice.sent.is_(False))
            .values(sent=True)
            .execution_options(synchronize_session=False)
        )
    failure_ids = [n.id for notices, _m in failures.values() for n in notices]
    if failure_ids:
        session.execute(
            update(FailureNotice)
            .where(FailureNotice.id.in_(failure_ids))
            .values(sent=True)
            .execution_options(synchronize_session=False)
        )
        done.failures = len(failure_ids)
    for user, setting in _digests_due(session, now):
        done.digests += 1
        if _digest(session, user, setting, now, links):
            done.emails += 1
            done.to.append(user.email)
    session.flush()
    return done


def _discover(session: Session, now: datetime) -> None:
    """Every assignment nobody was told of becomes a notice to send."""
    told = exists().where(
        ActionNotice.action_id == Assignment.action_id, ActionNotice.user_id == Assignment.user_id
    )
    new = select(Assignment.action_id, Assignment.user_id).where(~told)
    rows = [{"action_id": a, "user_id": u, "at": now, "sent": False} for a, u in session.execute(new)]
    if rows:
        session.execute(insert(ActionNotice), rows)


def _pending_actions(session: Session) -> dict[int, list[tuple[Action, Dossier]]]:
    """The open actions each user is still to be told of; those that ended first are dropped (one UPDATE)."""
    ended = exists().where(Action.id == ActionNotice.action_id, Action.status != ActionStatus.OPEN)
    session.execute(
        update(ActionNotice)
        .where(ActionNotice.sent.is_(False), ended)
        .values(sent=True)
        .execution_options(synchronize_session=False)
    )
    query = (
        select(ActionNotice.user_id, Action, Dossier)
        .join(Action, Action.id == ActionNotice.action_id)
        .join(Dossier, Dossier.id == Action.dossier_id)
        .where(ActionNotice.sent.is_(False))
        .order_by(ActionNotice.user_id, Action.due_at.asc().nulls_last(), Action.id)
    )
    found: dict[int, list[tuple[Action, Dossier]]] = defaultdict(list)
    for user_id, action, dossier in session.execute(query):
        found[user_id].append((action, dossier))
    return found


def _pending_failures(session: Session) -> dict[int, tuple[list[FailureNotice], list[User]]]:
    notices = list(
        session.scalars(
            select(FailureNotice).where(FailureNotice.sent.is_(False)).order_by(FailureNotice.id).limit(1000)
        )
    )
    by_dossier: dict[int, list[FailureNotice]] = defaultdict(list)
    for notice in notices:
        by_dossier[notice.dossier_id].append(notice)
    managers = managers_of(session, set(by_dossier))
    return {d: (n, managers.get(d, [])) for d, n in by_dossier.items()}


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_(ids), User.active.is_(True)).order_by(User.id)
        )
    }


def digest_moment(setting: NotificationSetting, now: datetime) -> datetime:
    """Today's digest time (Paris), as an instant."""
    local = now.astimezone(PARIS)
    return datetime.combine(local.date(), time(setting.hour), tzinfo=PARIS)


def _digests_due(session: Session, now: datetime) -> list[tuple[User, NotificationSetting]]:
    due = []
    query = (
        select(User, NotificationSetting)
        .join(NotificationSetting, NotificationSetting.user_id == User.id)
        .where(NotificationSetting.frequency == Frequency.DAILY, User.active.is_(True))
    )
    for user, setting in session.execute(query):
        moment = digest_moment(setting, now)
        if now >= moment and (setting.last_digest_at is None or setting.last_digest_at < moment):
            due.append((user, setting))
    return due


def _digest(session: Session, user: User, setting: NotificationSetting, now: datetime, links: Links) -> bool:
    """The daily digest: every open action of the user, overdue first, the new ones marked. One email."""
    setting.last_digest_at = now
    new_ids = set(
        session.scalars(
            select(ActionNotice.action_id).where(
                ActionNotice.user_id == user.id, ActionNotice.sent.is_(False)
            )
        )
    )
    rows = list(
        session.execute(
            select(Action, Dossier)
            .join(Assignment, Assignment.action_id == Action.id)
            .join(Dossier, Dossier.id == Action.dossier_id)
            .where(Assignment.user_id == user.id, Action.status == ActionStatus.OPEN)
            .order_by(Action.due_at.asc().nulls_last(), Action.id)
        )
    )
    session.execute(
        update(ActionNotice)
        .where(ActionNotice.user_id == user.id, ActionNotice.sent.is_(False))
        .values(sent=True)
        .execution_options(synchronize_session=False)
    )
    if not rows or not valid_email(user.email or ""):
        return False
    partner = user.kind == UserKind.PARTNER
    late = [(a, d) for a, d in rows if a.due_at is not None and a.due_at < now]
    day = now.astimezone(PARIS).strftime("%d/%m/%Y")
    subject = f"Séquences — récapitulatif du {day} : {_n(len(rows), 'action')} à faire"
    if late:
        subject += f", {len(late)} en retard"
    lines = [
        f"Bonjour {user.name},",
        "",
        f"Voici vos actions en cours au {day} ({len(rows)} à faire, {len(late)} en retard).",
        "",
    ]
    if late:
        lines += ["En retard :", *_lines(late, links, partner, now, new_ids), ""]
    others = [(a, d) for a, d in rows if (a, d) not in late]
    if others:
        lines += ["À faire :", *_lines(others, links, partner, now, new_ids), ""]
    lines += _footer(links, user)
    _queue(session, user, subject, "\n".join(lines), now)
    return True


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def _due(action: Action, now: datetime) -> str:
    if action.due_at is None:
        return "sans échéance"
    text_ = f"échéance {action.due_at.astimezone(PARIS).strftime('%d/%m/%Y')}"
    return text_ + (" (en retard)" if action.due_at < now and action.status == ActionStatus.OPEN else "")


def _lines(rows, links: Links, partner: bool, now: datetime, new_ids: set[int] | None = None) -> list[str]:
    lines = []
    for action, dossier in rows[:SHOWN]:
        mark = "[nouveau] " if new_ids and action.id in new_ids else ""
        lines.append(
            f"- {mark}{action.name} — dossier {dossier.reference} ({dossier.title[:80]}) — "
            f"{_due(action, now)}"
        )
        lines.append(f"  {links.action(action, partner)}")
    if len(rows) > SHOWN:
        lines.append(f"... et {len(rows) - SHOWN} autre(s) : voir vos actions dans Séquences.")
    return lines


def _footer(links: Links, user: User) -> list[str]:
    where = links.profile(user.kind == UserKind.PARTNER)
    return ["—", f"Vous recevez cet e-mail selon vos préférences de notification : {where}"]


def _assigned_email(
    user: User, actions, failed: list[FailureNotice], links: Links, now: datetime
) -> tuple[str, str]:
    partner = user.kind == UserKind.PARTNER
    if not actions:
        return _failure_email(user, failed, links)
    if len(actions) == 1:
        subject = f"Séquences — nouvelle action : {actions[0][0].name} ({actions[0][1].reference})"
    else:
        subject = f"Séquences — {len(actions)} nouvelles actions pour vous"
    lines = [
        f"Bonjour {user.name},",
        "",
        "Cette action vous est confiée :"
        if len(actions) == 1
        else f"Ces {len(actions)} actions vous sont confiées :",
        "",
    ]
    lines += _lines(actions, links, partner, now)
    if failed:
        lines += ["", *_failure_lines(failed, links)]
    lines += ["", *_footer(links, user)]
    return subject, "\n".join(lines)


def _failure_lines(failed: list[FailureNotice], links: Links) -> list[str]:
    lines = ["À traiter sur vos dossiers :"]
    for notice in failed[:SHOWN]:
        what = "Déroulement en échec" if notice.kind == "run_failed" else "Envoi en échec"
        lines.append(f"- {what} : {notice.text}")
        lines.append(f"  {links.dossier(notice.dossier_id)}")
    return lines


def _failure_email(user: User, failed: list[FailureNotice], links: Links) -> tuple[str, str]:
    runs = sum(1 for n in failed if n.kind == "run_failed")
    sends = len(failed) - runs
    parts = [
        p
        for p in (
            _n(runs, "déroulement") + " en échec" if runs else "",
            _n(sends, "envoi") + " en échec" if sends else "",
        )
        if p
    ]
    subject = "Séquences — " + " et ".join(parts)
    body = "\n".join([f"Bonjour {user.name},", "", *_failure_lines(failed, links), "", *_footer(links, user)])
    return subject, body


def _queue(session: Session, user: User, subject: str, body: str, now: datetime) -> Communication:
    row = Communication(
        dossier_id=None,
        channel=Channel.EMAIL,
        recipient_name=user.name,
        to_address=user.email,
        subject=subject[:900],
        body=body,
        html=False,
        template_key=TEMPLATE,
        status=CommunicationStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        message_id=new_message_id(),
        created_at=now,
    )
    session.add(row)
    return row


def outbox(session: Session, limit: int = 200) -> list[Communication]:
    """The notification emails, newest first: what admins look at."""
    return list(
        session.scalars(
            select(Communication)
            .where(Communication.template_key == TEMPLATE, Communication.dossier_id.is_(None))
            .order_by(Communication.id.desc())
            .limit(limit)
        )
    )
