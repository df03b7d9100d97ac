"""Sequence overview for managers: each published sequence drawn with the number of dossiers waiting at
each step (a heat map) and the outcomes chosen at each decision."""

from datetime import timedelta

from flask import render_template, request
from flask_babel import gettext as _

from runtime import incidents, paths, workspace
from runtime.layout import with_diagram

from ..clock import now
from ..extensions import db
from ..labels import dictionary, lang
from ..permissions import Perm
from . import pages
from .auth import page_allowed
from .workspace import bundle_built

PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}


@pages.route("/overview/")
@page_allowed(Perm.DOSSIERS_READ)
def overview():
    period = request.args.get("period") if request.args.get("period") in PERIODS else "90"
    days = PERIODS[period]
    since = now() - timedelta(days=days) if days else None
    waiting = workspace.waiting_counts(db.session)
    running = workspace.running_counts(db.session)
    outcomes = workspace.outcome_counts(db.session, since)
    failed = incidents.counts_by_sequence(db.session)
    sequences = []
    for sequence, version in workspace.published_sequences(db.session):
        graph = paths.graph_of(version)
        counts = waiting.get(sequence.key, {})
        chosen = outcomes.get(sequence.key, {})
        flow_counts: dict[str, int] = {}
        for element_id, per_outcome in chosen.items():
            for outcome, count in per_outcome.items():
                context = {"actions": {}, "dossier": {}, "event": None}
                for answer in paths.what_if(version, element_id, [outcome], "done", context, now()):
                    for flow_id in answer["flows"]:
                        if graph.tags.get(graph.flows[flow_id].source) in paths.GATEWAYS:
                            flow_counts[flow_id] = flow_counts.get(flow_id, 0) + count
        labels = {k: (v or _("sinon")) for k, v in paths.flow_labels(version, dictionary(), lang()).items()}
        names = {e.id: e.name or e.id for e in paths.model_of(version).elements.values()}
        sequences.append(
            {
                "key": sequence.key,
                "name": sequence.name,
                "version": version.number,
                "waiting": running.get(sequence.key, 0),
                "failed": failed.get(sequence.key, 0),
                "counts": counts,
                "outcomes": chosen,
                "names": names,
                "diagram": {
                    "xml": with_diagram(version.xml, version.checksum).decode("utf-8", errors="replace"),
                    "counts": counts,
                    "labels": {
                        k: f"{v} · {flow_counts[k]}" if k in flow_counts else v for k, v in labels.items()
                    },
                    "flowCounts": flow_counts,
                },
                "elsewhere": {k: v for k, v in counts.items() if k not in graph.tags},
            }
        )
    return render_template(
        "dossiers/overview.html",
        sequences=sequences,
        period=period,
        bundle_built=bundle_built(),
        failed=sum(failed.values()),
    )
