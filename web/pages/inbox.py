"""« Mes actions »: the open actions of the roles the user holds, across dossiers, overdue first; and, for
managers, the open actions whose role nobody holds."""

from flask import render_template, request
from flask_login import current_user

from runtime import incidents, workspace

from ..clock import now
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed
from .workspace import STATUS_LABELS

PAGE = 50


def _offset() -> int:
    value = request.args.get("page", "1")
    return (max(1, int(value)) - 1) * PAGE if value.isdigit() else 0


def _render(which: str, rows, counts):
    at = now()
    can_pilot = allows(current_user.account, Perm.RUNS_PILOT)
    holders = workspace.holders_of(db.session, {(action.run_id, action.role) for action, _r, _t in rows})
    return render_template(
        "inbox/list.html",
        which=which,
        rows=rows,
        counts=counts,
        now=at,
        holders=holders,
        page=_offset() // PAGE + 1,
        page_size=PAGE,
        statuses=STATUS_LABELS,
        overdue_only=request.args.get("overdue") == "1",
        can_pilot=can_pilot,
        failed=incidents.count_for_user(db.session, current_user.account.id) if can_pilot else 0,
    )


@pages.route("/inbox/")
@page_allowed(Perm.DOSSIERS_READ)
def inbox():
    rows, counts = workspace.inbox(
        db.session,
        current_user.account.id,
        now(),
        overdue_only=request.args.get("overdue") == "1",
        limit=PAGE,
        offset=_offset(),
    )
    return _render("mine", rows, counts)


@pages.route("/inbox/unassigned")
@page_allowed(Perm.RUNS_PILOT)
def inbox_unassigned():
    rows, counts = workspace.unassigned(
        db.session, now(), overdue_only=request.args.get("overdue") == "1", limit=PAGE, offset=_offset()
    )
    return _render("unassigned", rows, counts)
