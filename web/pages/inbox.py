"""The inboxes: « Mes actions » (the open actions of the roles the user holds), and for managers « Sans
titulaire » (open actions whose role nobody holds) and « Toutes » (anyone's, or one colleague's); searched,
filtered and sorted by the query string, so that a filtered list is a link. Managers hand actions over to
a colleague (with a preview) or take an action nobody holds."""

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from kernel.errors import DomainError
from runtime import handover, incidents, workspace
from runtime.inbox import COUNTED, DUES, PAGE, SORTS, Filters, colleagues, inbox_page, matching_ids
from runtime.roles import known_roles

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..labels import role_label
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed
from .workspace import STATUS_LABELS, attempt, local_target

VIEWS = {
    "mine": ("pages.inbox", "me"),
    "unassigned": ("pages.inbox_unassigned", "none"),
    "all": ("pages.inbox_all", "any"),
}


@pages.app_template_filter("counted")
def counted(number: int, bounded: bool = False) -> str:
    """A count as people read it; « 1 000+ » past what a bounded list counts."""
    if bounded and number > COUNTED:
        return _("%(num)s+", num=format_number(COUNTED))
    return format_number(number)


@dataclass(frozen=True)
class RowText:
    """What each row of a page writes, translated and built once for the page: a translation or a `url_for`
    costs tens of microseconds, and a page has 50 rows. The patterns are the templates' own messages,
    formatted per row as Jinja's `_()` would (`Markup(pattern) % values`, the values escaped)."""

    late: Markup
    choose: Markup  # « Choisir « %(name)s » (%(reference)s) »
    take: Markup  # « Prendre « %(name)s » (%(reference)s) »
    take_button: Markup
    csrf: str
    roles: dict[str, str]  # role key → label
    take_url: Callable[[int], str]
    dossier_url: Callable[[int], str]

    def action_url(self, dossier_id: int, action_id: int) -> str:
        return f"{self.dossier_url(dossier_id)}#action-{action_id}"


def _url_with(endpoint: str, name: str) -> Callable[[int], str]:
    """`url_for(endpoint, name=value)` for any integer value, from one `url_for`."""
    mark = 987_654_321
    head, tail = url_for(endpoint, **{name: mark}).split(str(mark))
    return lambda value: f"{head}{value}{tail}"


def _row_text(rows: list) -> RowText:
    return RowText(
        late=Markup(_("en retard")),
        choose=Markup(_("Choisir « %(name)s » (%(reference)s)")),
        take=Markup(_("Prendre « %(name)s » (%(reference)s)")),
        take_button=Markup(_("Prendre")),
        csrf=generate_csrf(),
        roles={role: role_label(role) for role in {action.role for action, *_rest in rows}},
        take_url=_url_with("pages.inbox_take", "action_id"),
        dossier_url=_url_with("pages.dossier_page", "dossier_id"),
    )


def _filters(which: str) -> Filters:
    filters = Filters.from_args(request.args, VIEWS[which][1])
    if which != "all":  # only « Toutes » chooses whose actions it lists
        filters = replace(filters, holder=VIEWS[which][1])
    return filters


def _render(which: str):
    account = current_user.account
    can_pilot = allows(account, Perm.RUNS_PILOT)
    filters = _filters(which)
    at = now()
    found = inbox_page(db.session, account.id, at, filters)
    holders = workspace.holders_of(db.session, {(a.run_id, a.role) for a, *_rest in found.rows})
    # « Prendre » is offered on a row nobody holds, where the user's kind may hold the role (an internal user,
    # an internal role): the library's roles are read only when a row needs them.
    unheld = can_pilot and any((a.run_id, a.role) not in holders for a, *_rest in found.rows)
    failed = 0
    if can_pilot:  # the banner's count, with the navigation's in the same statement
        g.failed_runs, failed = incidents.count_failed(db.session, account.id)
    endpoint = VIEWS[which][0]
    holder_arg = {"holder": filters.holder} if which == "all" and filters.holder != "any" else {}

    def link(**changes) -> str:
        return url_for(endpoint, **holder_arg, **filters.args(**changes))

    return render_template(
        "inbox/list.html",
        which=which,
        endpoint=endpoint,
        found=found,
        rows=found.rows,
        counts=found.counts,
        filters=filters,
        link=link,
        here=link(),
        now=at,
        holders=holders,
        text=_row_text(found.rows),
        page_size=PAGE,
        dues=DUES,
        sorts=SORTS,
        statuses=STATUS_LABELS,
        colleagues=colleagues(db.session) if can_pilot else [],
        role_kinds=known_roles(db.session) if unheld else {},
        own_kind="partner" if account.is_partner else "internal",
        can_pilot=can_pilot,
        failed=failed,
    )


@pages.route("/inbox/")
@page_allowed(Perm.DOSSIERS_READ)
def inbox():
    return _render("mine")


@pages.route("/inbox/unassigned")
@page_allowed(Perm.RUNS_PILOT)
def inbox_unassigned():
    return _render("unassigned")


@pages.route("/inbox/all")
@page_allowed(Perm.RUNS_PILOT)
def inbox_all():
    return _render("all")


def _chosen_ids() -> list[int] | None:
    """The actions a handover form names: the rows checked, or every action matching the list's filters."""
    if request.form.get("all_matching") != "1":
        return [int(v) for v in request.form.getlist("action_ids") if v.isdigit()]
    which = request.form.get("which") if request.form.get("which") in VIEWS else "mine"
    filters = Filters.from_args(request.form, VIEWS[which][1])
    ids = matching_ids(db.session, current_user.account.id, now(), filters, handover.MAX_ACTIONS)
    if len(ids) > handover.MAX_ACTIONS:
        flash(
            _(
                "Plus de %(n)d actions correspondent à ces filtres : filtrez davantage, puis confiez-les en "
                "plusieurs fois.",
                n=handover.MAX_ACTIONS,
            ),
            "error",
        )
        return None
    return ids


def _user_id() -> int | None:
    value = request.form.get("user_id", "")
    return int(value) if value.isdigit() else None


@pages.route("/inbox/handover", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def inbox_handover():
    back = local_target(url_for("pages.inbox"))
    ids = _chosen_ids()
    if ids is None:
        return redirect(back, code=303)
    if request.form.get("confirm") != "1":
        try:
            plan = handover.plan_handover(db.session, ids, _user_id())
        except DomainError as error:
            flash(error.message, "error")
            return redirect(back, code=303)
        return render_template("inbox/handover.html", plan=plan, ids=ids, back=back)

    def work():
        done = handover.hand_over(db.session, current_actor(), now(), ids, _user_id())
        flash(
            ngettext(
                "%(num)d action confiée à %(name)s",
                "%(num)d actions confiées à %(name)s",
                done.actions,
                name=done.user.name,
            )
            + " "
            + ngettext("(%(num)d dossier).", "(%(num)d dossiers).", len(done.dossiers)),
            "success",
        )

    return attempt(work, None, back)


@pages.route("/inbox/actions/<int:action_id>/take", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def inbox_take(action_id: int):
    back = local_target(url_for("pages.inbox_unassigned"))
    return attempt(
        lambda: handover.take_action(db.session, action_id, current_actor(), now()),
        _("Action prise : elle est maintenant dans Mes actions."),
        back,
    )
