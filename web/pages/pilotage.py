"""Pilotage for managers and analysts: the diagram with time and lateness per step, weekly charts, workload,
and whether due dates and legal delays were met. Figures come from runtime/pilotage/; these routes parse
the filters, call it, label what it returns and draw it. Every table and chart exports as CSV."""

from datetime import date, timedelta

from flask import Response, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kernel.db import unit_of_work
from runtime import paths, pilotage, workspace
from runtime.layout import with_diagram
from runtime.pilotage import Scope
from runtime.specs import model_of

from ..clock import now
from ..exports import csv_response
from ..extensions import db
from ..labels import dictionary, lang, role_label
from ..permissions import Perm
from . import charts, pages
from .auth import page_allowed
from .workspace import bundle_built

PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
PERIOD_LABELS = {
    "30": _l("30 jours"),
    "90": _l("90 jours"),
    "365": _l("un an"),
    "all": _l("toute la période"),
}
OVERLAYS = {"count": _l("Dossiers en attente"), "time": _l("Temps passé"), "late": _l("Retards")}
END_LABELS = {
    "completed": _l("terminées"),
    "interrupted": _l("interrompues"),
    "failed": _l("en échec"),
    "switched": _l("remplacées"),
}
END_COLORS = {"completed": "#1e7b34", "interrupted": "#b07d00", "failed": "#b3261e"}


def _csv_response(rows: list[list], filename: str = "pilotage.csv") -> Response:
    """Every export of these pages: first row the headers, written by the product's one CSV writer."""
    return csv_response(filename, rows[0], rows[1:])


def duration(seconds: float | None) -> str:
    """A time span as people say it: minutes, hours or days."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return _("%(n)s min", n=format_decimal(round(seconds / 60)))
    if seconds < 86400:
        return _("%(n)s h", n=format_decimal(round(seconds / 3600, 1)))
    return _("%(n)s j", n=format_decimal(round(seconds / 86400, 1)))


def _days(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 86400:.2f}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(100 * share)} %"


# ---- filters


class Filters:
    """The filters of the request, checked against what exists; unknown values fall back to "all"."""

    def __init__(self, need_sequence: bool):
        self.now = now()
        with unit_of_work(db.session):  # the weeks closed since the last page are grouped first
            pilotage.keep_up(db.session, self.now)
        self.sequences = {s.key: (s, v) for s, v in workspace.published_sequences(db.session)}
        self.names = {key: s.name for key, (s, _v) in self.sequences.items()}
        key = request.args.get("sequence", "")
        if key not in self.sequences:
            key = next(iter(self.sequences), "") if need_sequence else ""
        self.sequence = key
        self.versions = pilotage.versions_of(db.session, key) if key else []
        number = request.args.get("version", "")
        self.version = next((v for v in self.versions if str(v.number) == number), None)
        self.period = request.args.get("period") if request.args.get("period") in PERIODS else "90"
        self.roles = self._role_names()
        self.role = request.args.get("role", "") if request.args.get("role", "") in self.roles else ""
        self.holders = dict(pilotage.holders(db.session))
        holder = request.args.get("holder", "")
        self.holder = int(holder) if holder.isdigit() and int(holder) in self.holders else None
        days = PERIODS[self.period]
        self.scope = pilotage.resolved(
            db.session,
            Scope(
                sequence=key or None,
                version=self.version.number if self.version else None,
                since=self.now - timedelta(days=days) if days else None,
                role=self.role or None,
                holder=self.holder,
            ),
        )

    def _role_names(self) -> dict[str, str]:
        """Role key → the lane's name, from the sequences in view (the latest version of each)."""
        names: dict[str, str] = {}
        chosen = [self.sequences[self.sequence]] if self.sequence else self.sequences.values()
        for _s, version in chosen:
            for key, role in model_of(version).roles.items():
                names.setdefault(key, role_label(key, role.name))
        return names

    @property
    def drawn(self):
        """The version whose diagram is drawn: the chosen one, or the latest."""
        return self.version or (self.sequences[self.sequence][1] if self.sequence else None)

    def args(self, **changes) -> dict:
        found = {
            "sequence": self.sequence,
            "version": self.version.number if self.version else "",
            "period": self.period,
            "role": self.role,
            "holder": self.holder or "",
        }
        found.update(changes)
        return {k: v for k, v in found.items() if v not in ("", None)}

    def end_label(self, kind: str) -> str:
        if kind.startswith("switched:"):
            target = kind.split(":", 1)[1]
            return _("vers « %(name)s »", name=self.names.get(target, target))
        return str(END_LABELS.get(kind, kind))


def _render(template: str, filters: Filters, **context):
    return render_template(
        template,
        f=filters,
        periods=PERIOD_LABELS,
        duration=duration,
        percent=_percent,
        bundle_built=bundle_built(),
        **context,
    )


# ---- the diagram


@pages.route("/pilotage/")
@page_allowed(Perm.DOSSIERS_READ)
def pilotage_diagram():
    f = Filters(need_sequence=True)
    if f.drawn is None:
        return _render("pilotage/diagram.html", f, sequence=None)
    overlay = request.args.get("overlay") if request.args.get("overlay") in OVERLAYS else "count"
    steps = pilotage.step_figures(db.session, f.scope, f.now)
    outcomes = {k: s.outcomes for k, s in steps.items() if s.outcomes}
    model = model_of(f.drawn)
    names = {e.id: e.name or e.id for e in model.elements.values()}
    step = request.args.get("step", "")
    waiting = pilotage.waiting_at(db.session, f.scope, step) if step else []
    if request.args.get("format") == "csv":
        if step:
            return _csv_response(
                [[_("dossier"), _("intitulé"), _("en attente depuis (UTC)"), _("échéance (UTC)")]]
                + [[r["reference"], r["title"], r["since"].isoformat(), _iso(r["due_at"])] for r in waiting],
                f"pilotage-{f.sequence}-{step}.csv",
            )
        return _csv_response(
            [
                [
                    _("étape"),
                    _("en attente"),
                    _("terminées"),
                    _("médiane (jours)"),
                    _("90e centile (jours)"),
                    _("avec échéance"),
                    _("en retard"),
                ]
            ]
            + [
                [names.get(k, k), s.waiting, s.ended, _days(s.median), _days(s.p90), s.with_due, s.late]
                for k, s in sorted(steps.items(), key=lambda kv: names.get(kv[0], kv[0]))
            ]
            + [[]]
            + [[_("étape"), _("résultat"), _("nombre")]]
            + [[names.get(k, k), o, n] for k, per in outcomes.items() for o, n in sorted(per.items())],
            f"pilotage-{f.sequence}.csv",
        )
    shares = pilotage.gateway_shares(f.drawn, outcomes, f.now)
    labels = {k: (v or _("sinon")) for k, v in paths.flow_labels(f.drawn, dictionary(), lang()).items()}
    for flow_id, (count, share) in shares.items():
        labels[flow_id] = f"{labels.get(flow_id, '')} · {_percent(share)} ({count})"
    diagram = {
        "xml": with_diagram(f.drawn.xml, f.drawn.checksum).decode("utf-8", errors="replace"),
        "labels": labels,
        "flowCounts": {k: n for k, (n, _s) in shares.items()},
        "stepLink": url_for("pages.pilotage_diagram", **f.args(overlay=overlay)) + "&step=",
        **_overlay(overlay, steps),
    }
    return _render(
        "pilotage/diagram.html",
        f,
        sequence=f.sequences[f.sequence][0],
        overlay=overlay,
        overlays=OVERLAYS,
        steps=sorted(steps.items(), key=lambda kv: (-kv[1].waiting, names.get(kv[0], kv[0]))),
        names=names,
        outcomes=outcomes,
        diagram=diagram,
        step=step,
        waiting=waiting,
    )


def _overlay(overlay: str, steps: dict) -> dict:
    """What the diagram shows on each step: `counts` colour the steps (heat), `badges` say the figure."""
    if overlay == "time":
        shown = {k: s for k, s in steps.items() if s.median is not None}
        return {
            "counts": {k: round(s.median) for k, s in shown.items()},
            "badges": {
                k: _("méd. %(m)s · 90 %% ≤ %(p)s", m=duration(s.median), p=duration(s.p90))
                for k, s in shown.items()
            },
        }
    if overlay == "late":
        shown = {k: s for k, s in steps.items() if s.with_due}
        return {
            "counts": {k: max(1, round(100 * s.late_share)) if s.late else 0 for k, s in shown.items()},
            "badges": {k: _("%(p)s en retard", p=_percent(s.late_share)) for k, s in shown.items()},
            "heatMax": 100,  # a share: its heat does not depend on the other steps
        }
    return {"counts": {k: s.waiting for k, s in steps.items() if s.waiting}}


def _iso(value) -> str:
    return value.isoformat() if value else ""


# ---- charts


def _week_label(week: date) -> str:
    return week.strftime("%d/%m")


@pages.route("/pilotage/charts")
@page_allowed(Perm.DOSSIERS_READ)
def pilotage_charts():
    f = Filters(need_sequence=False)
    runs = pilotage.runs_per_week(db.session, f.scope)
    actions = pilotage.actions_per_week(db.session, f.scope, f.now)
    per_role, per_holder = pilotage.workload(db.session, f.scope, f.now)
    durations = pilotage.run_durations(db.session, f.scope)
    table = request.args.get("table", "")
    if request.args.get("format") == "csv":
        return _csv_response(
            _chart_rows(f, table, runs, actions, per_role, per_holder, durations), f"pilotage-{table}.csv"
        )
    weeks = sorted(set(runs) | set(actions))
    if f.scope.since is not None:
        first = min(actions) if actions else None
        weeks = [w for w in weeks if first is None or w >= first]
    week_labels = [_week_label(w) for w in weeks]
    ends = sorted({k for per in runs.values() for k in per if k != "started"}, key=f.end_label)
    started = charts.colored([_("lancés")], [[runs.get(w, {}).get("started", 0) for w in weeks]])
    ended = charts.colored(
        [f.end_label(k) for k in ends],
        [[runs.get(w, {}).get(k, 0) for w in weeks] for k in ends],
        {f.end_label(k): c for k, c in END_COLORS.items()},
    )
    ended_started = charts.stacked_bars(_("Déroulements lancés par semaine"), week_labels, started)
    ended_chart = charts.stacked_bars(
        _("Déroulements terminés par semaine, selon leur fin"), week_labels, ended
    )
    open_chart = charts.lines(
        _("Actions ouvertes et en retard en fin de semaine"),
        week_labels,
        charts.colored(
            [_("ouvertes"), _("en retard")],
            [[actions.get(w, (0, 0))[0] for w in weeks], [actions.get(w, (0, 0))[1] for w in weeks]],
            {_("en retard"): "#b3261e"},
        ),
    )
    load_series = [_("ouvertes"), _("en retard")]
    role_chart = charts.bars(
        _("Charge par rôle"),
        [f.roles.get(r.key, r.key) for r in per_role],
        charts.colored(
            load_series,
            [[r.open for r in per_role], [r.overdue for r in per_role]],
            {_("en retard"): "#b3261e"},
        ),
    )
    holder_chart = charts.bars(
        _("Charge par titulaire"),
        [h.name or h.key for h in per_holder[:20]],
        charts.colored(
            load_series,
            [[h.open for h in per_holder[:20]], [h.overdue for h in per_holder[:20]]],
            {_("en retard"): "#b3261e"},
        ),
    )
    duration_rows = sorted(
        durations.items(), key=lambda kv: (f.names.get(kv[0][0], ""), f.end_label(kv[0][1]))
    )
    duration_chart = charts.bars(
        _("Durée du lancement à la fin (médiane ; trait : 90e centile)"),
        [f"{f.names.get(key, key)} — {f.end_label(end)}" for (key, end), _s in duration_rows],
        charts.colored(
            [_("médiane (jours)")], [[round((s.median or 0) / 86400, 1) for _k, s in duration_rows]]
        ),
        fmt=lambda v: _("%(n)s j", n=format_decimal(v)),
        marks=[round((s.p90 or 0) / 86400, 1) for _k, s in duration_rows],
    )
    return _render(
        "pilotage/charts.html",
        f,
        blocks=[
            ("runs", _("Déroulements lancés"), ended_started, bool(weeks)),
            ("ends", _("Déroulements terminés"), ended_chart, bool(ends)),
            ("actions", _("Actions ouvertes et en retard"), open_chart, bool(actions)),
            ("roles", _("Charge par rôle"), role_chart, bool(per_role)),
            ("holders", _("Charge par titulaire"), holder_chart, bool(per_holder)),
            ("durations", _("Durée des déroulements"), duration_chart, bool(durations)),
        ],
    )


def _chart_rows(f: Filters, table, runs, actions, per_role, per_holder, durations) -> list[list]:
    if table in ("runs", "ends"):
        kinds = ["started"] + sorted({k for per in runs.values() for k in per} - {"started"})
        header = [_("semaine du")] + [_("lancés") if k == "started" else f.end_label(k) for k in kinds]
        return [header] + [[w.isoformat()] + [per.get(k, 0) for k in kinds] for w, per in runs.items()]
    if table == "actions":
        return [[_("semaine du"), _("ouvertes"), _("en retard")]] + [
            [w.isoformat(), o, late] for w, (o, late) in actions.items()
        ]
    if table in ("roles", "holders"):
        loads = per_role if table == "roles" else per_holder
        return [[_("rôle") if table == "roles" else _("titulaire"), _("ouvertes"), _("en retard")]] + [
            [f.roles.get(r.key, r.key) if table == "roles" else r.name, r.open, r.overdue] for r in loads
        ]
    return [[_("séquence"), _("fin"), _("déroulements"), _("médiane (jours)"), _("90e centile (jours)")]] + [
        [f.names.get(key, key), f.end_label(end), s.count, _days(s.median), _days(s.p90)]
        for (key, end), s in durations.items()
    ]


# ---- legal delays


@pages.route("/pilotage/delays")
@page_allowed(Perm.DOSSIERS_READ)
def pilotage_delays():
    f = Filters(need_sequence=True)
    if f.drawn is None:
        return _render("pilotage/delays.html", f, delays=[], rows=[], names={})
    model = model_of(f.drawn)
    names = {e.id: e.name or e.id for e in model.elements.values()}
    element = request.args.get("element", "")
    csv_wanted = request.args.get("format") == "csv"
    limit = pilotage.EXPORTED if csv_wanted else pilotage.LISTED
    rows = pilotage.late_dossiers(db.session, f.scope, f.now, element_id=element or None, limit=limit)
    if csv_wanted and request.args.get("table") == "delays":
        delays = pilotage.legal_delays(db.session, f.scope, f.now)
        return _csv_response(
            [
                [
                    _("étape"),
                    _("type"),
                    _("nombre"),
                    _("en retard"),
                    _("retard médian (jours)"),
                    _("retard maximal (jours)"),
                ]
            ]
            + [
                [
                    names.get(d.element_id, d.element_id),
                    _kind(d.kind),
                    d.count,
                    d.late,
                    _days(d.median_late),
                    _days(d.max_late),
                ]
                for d in delays
            ],
            f"delais-{f.sequence}.csv",
        )
    if csv_wanted:  # up to EXPORTED rows: each label is translated once, not once a row
        kinds = {kind: _kind(kind) for kind in ("action", "timer")}
        return _csv_response(
            [
                [
                    _("dossier"),
                    _("intitulé"),
                    _("étape"),
                    _("type"),
                    _("date limite (UTC)"),
                    _("fait le (UTC)"),
                    _("retard (jours)"),
                ]
            ]
            + [
                [
                    r["reference"],
                    r["title"],
                    names.get(r["element_id"], r["element_id"]),
                    kinds[r["kind"]],
                    _iso(r["due_at"]),
                    _iso(r["happened_at"]),
                    _days(r["late"]),
                ]
                for r in rows
            ],
            f"retards-{f.sequence}.csv",
        )
    delays = pilotage.legal_delays(db.session, f.scope, f.now)
    return _render(
        "pilotage/delays.html",
        f,
        delays=delays,
        rows=rows,
        names=names,
        element=element,
        kinds={"action": _("échéance d’action"), "timer": _("délai")},
        listed=pilotage.LISTED,
        chart=charts.bars(
            _("Part des étapes venues après leur date"),
            [names.get(d.element_id, d.element_id) for d in delays],
            charts.colored(
                [_("en retard (%)")],
                [[round(100 * d.late / d.count) if d.count else 0 for d in delays]],
                {_("en retard (%)"): "#b3261e"},
            ),
            fmt=lambda v: f"{v:g} %",
        )
        if delays
        else None,
    )


def _kind(kind: str) -> str:
    return _("délai") if kind == "timer" else _("échéance d’action")
