"""Moving the dossiers of a published version to another version: the plan with the two diagrams side by
side, the preview (on the real engine) and the execution, each a form that calls runtime/migrations.py."""

from datetime import datetime

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from bpmn.durations import PARIS
from designer import services as designer
from kernel.errors import Malformed
from runtime import migrations

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed


def when(value: str | None) -> str:
    """An instant of the report, as the date it is in Paris (a timer fires at the start of that day)."""
    return datetime.fromisoformat(value).astimezone(PARIS).strftime("%d/%m/%Y") if value else ""


STATUS_LABELS = {"migrated": "Migré", "would_migrate": "Sera migré", "left_out": "Laissé de côté"}


@pages.app_context_processor
def _migration_link():
    """`migration_link(sequence, number)`: where to migrate the dossiers running on that version, and how
    many they are, for someone who may (None otherwise): version pages and publication show it."""

    def link(sequence, number: int) -> dict | None:
        account = getattr(current_user, "account", None)
        if account is None or not allows(account, Perm.RUNS_PILOT) or len(sequence.versions) < 2:
            return None
        running = migrations.running_counts(db.session, sequence.key).get(number, 0)
        url = url_for("pages.migration_plan", key=sequence.key, number=number)
        return {"url": url, "running": running} if running else None

    return {"migration_link": link}


def _target(sequence, number: int) -> int:
    others = [v.number for v in sequence.versions if v.number != number]
    if not others:
        raise Malformed(_("Cette séquence n'a pas d'autre version publiée vers laquelle migrer."))
    raw = request.values.get("to")
    if raw is None:
        return others[-1]
    if not raw.isdigit() or int(raw) not in others:
        raise Malformed(
            _("Choisissez la version cible parmi : %(choices)s.", choices=", ".join(str(n) for n in others)),
            field="to",
        )
    return int(raw)


def _mapping() -> dict[str, str]:
    """The form's `map:<source id>` fields; an empty choice leaves that step's dossiers out."""
    return {name[4:]: value for name, value in request.form.items() if name.startswith("map:") and value}


def _context(key: str, number: int):
    sequence = designer.get_sequence(db.session, key)
    target = _target(sequence, number)
    source_version = designer.get_version(db.session, key, number)
    target_version = designer.get_version(db.session, key, target)
    return sequence, target, source_version, target_version


@pages.route("/designer/sequences/<key>/versions/<int:number>/migrate", methods=["GET"])
@page_allowed(Perm.RUNS_PILOT)
def migration_plan(key: str, number: int):
    sequence = designer.get_sequence(db.session, key)
    if not [v for v in sequence.versions if v.number != number]:
        source_version = designer.get_version(db.session, key, number)
        return render_template("migrations/plan.html", sequence=sequence, source=source_version, plan=None)
    sequence, target, source_version, target_version = _context(key, number)
    plan = migrations.plan_migration(db.session, key, number, target)
    return render_template(
        "migrations/plan.html",
        sequence=sequence,
        plan=plan,
        source=source_version,
        target=target_version,
        source_xml=source_version.xml.decode("utf-8"),
        target_xml=target_version.xml.decode("utf-8"),
        versions=[v.number for v in sequence.versions if v.number != number],
    )


@pages.route("/designer/sequences/<key>/versions/<int:number>/migrate", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def migration_run(key: str, number: int):
    """`step=preview`: the report of every dossier, nothing changed; `step=execute`: the chosen dossiers."""
    sequence, target, source_version, target_version = _context(key, number)
    mapping = _mapping()
    restart = request.form.get("restart_timers") == "1"
    execute = request.form.get("step") == "execute"
    dossiers = "all"
    if execute:
        chosen = request.form.getlist("dossier")
        if not chosen or not all(c.isdigit() for c in chosen):
            raise Malformed(_("Cochez au moins un dossier à migrer."), field="dossier")
        dossiers = [int(c) for c in chosen]
    plan = migrations.plan_migration(db.session, key, number, target, mapping)
    reports = migrations.migrate_runs(
        db.session,
        key,
        current_actor(),
        now,
        from_version=number,
        to_version=target,
        mapping=mapping,
        dossiers=dossiers,
        dry_run=not execute,
        restart_timers=restart,
    )
    names = {p["element_id"]: p["name"] for p in plan["waits"]}
    names.update({p["element_id"]: p["name"] for p in plan["targets"]})
    return render_template(
        "migrations/report.html",
        sequence=sequence,
        plan=plan,
        source=source_version,
        target=target_version,
        reports=reports,
        executed=execute,
        when=when,
        mapping=mapping,
        restart=restart,
        names=names,
        summary=migrations.summarize(reports),
        status_labels={k: _(v) for k, v in STATUS_LABELS.items()},
    )
