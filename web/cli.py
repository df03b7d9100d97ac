"""The `sequences` command (see the README, "Command line"), built on Flask's CLI."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from designer import services
from kernel import accounts
from kernel.db import unit_of_work
from kernel.errors import DomainError

from . import create_app
from .clock import now
from .extensions import db

user_cli = AppGroup("user", help="Manage user accounts.")
token_cli = AppGroup("token", help="Manage API tokens.")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["internal", "partner"]), required=True)
@click.option("--role", type=click.Choice(["admin", "analyst", "manager"]))
@click.option("--password", required=True)
def create_user(email, name, kind, role, password):
    """Create a user."""
    try:
        with unit_of_work(db.session):
            user = accounts.create_user(
                db.session, email=email, name=name, kind=kind, role=role, password=password, now=now()
            )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Utilisateur {user.email} créé (id {user.id}).")


@token_cli.command("create")
@click.option("--email", required=True)
def create_token(email):
    """Print a new API token for a user."""
    try:
        with unit_of_work(db.session):
            token = accounts.create_token(db.session, accounts.find_user(db.session, email), now())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(token)


@click.command("import")
@with_appcontext
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--publish", is_flag=True, help="Publish the files together (all or none).")
@click.option("--replace", is_flag=True, help="Replace the drafts of existing sequences (kept in history).")
def import_files(files, publish, replace):
    """Store BPMN files as drafts (and publish them); print the problems per element.

    A file whose sequence exists with another draft is refused, and nothing is stored, unless --replace."""
    with unit_of_work(db.session):
        if not _store(files, publish, replace):
            sys.exit(1)  # leaving the unit of work rolls it all back: every file or none


def _store(files: tuple[Path, ...], publish: bool, replace: bool) -> bool:
    """Saves (and publishes) the files, printing what became of each; False when any was refused."""
    saved: dict[str, Path] = {}
    failed = False
    for path in files:
        try:
            sequence, _, report = services.save_draft(db.session, path.read_bytes(), None, now(), replace)
        except services.SequenceExists as error:
            click.echo(f"{path}: {error.message} Relancez avec --replace pour remplacer son brouillon.",
                       err=True)
            failed = True
            continue
        except DomainError as error:
            _print_problems(path, error.message, error.details.get("issues", []))
            failed = True
            continue
        saved[sequence.key] = path
        if not publish:
            click.echo(f"{path}: brouillon « {sequence.key} » enregistré ({len(report.issues)} problème(s)).")
            for issue in report.issues:
                click.echo(f"  - {issue.element_id or '(fichier)'} [{issue.code}] {issue.message}")
    if publish and saved and not failed:
        # Together, so that sequences which switch into each other can be published at all.
        try:
            versions = services.publish_versions(db.session, list(saved), None, now())
        except DomainError as error:
            for key, issues in error.details.get("by_sequence", {}).items():
                _print_problems(saved[key], error.message, issues)
            failed = True
        else:
            for version in versions:
                click.echo(f"{saved[version.key]}: « {version.key} » publiée en version {version.number}.")
    return not failed


def _print_problems(path: Path, message: str, issues: list[dict]) -> None:
    click.echo(f"{path}: {message}", err=True)
    for issue in issues:
        click.echo(f"  - {issue['element_id'] or '(fichier)'} [{issue['code']}] {issue['message']}", err=True)


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the web app, with the timer worker embedded."""
    app = current_app._get_current_object()
    if app.config.get("EMBEDDED_WORKER"):
        from .worker import start_embedded

        start_embedded(app)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


@click.command("check")
@with_appcontext
@click.option("--quick", is_flag=True, help="Skip loading every running run in the engine.")
def check(quick):
    """Verify each dossier's history chain and that the history agrees with runs and actions."""
    from runtime.check import check_all

    problems = check_all(db.session, deep=not quick)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problème(s) trouvé(s).", err=True)
        sys.exit(1)
    click.echo("Historique intègre et cohérent avec les déroulements.")


@click.command("migrate")
@with_appcontext
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="Version the dossiers run on.")
@click.option("--to", "to_version", type=int, required=True, help="Version to move them to.")
@click.option("--dry-run", is_flag=True, help="Preview on the real engine; nothing is changed.")
@click.option("--dossier", "dossier_ids", type=int, multiple=True, help="Only this dossier (repeatable).")
@click.option("--map", "pairs", multiple=True, metavar="SOURCE=TARGET", help="Map a waiting step by hand.")
@click.option("--restart-timers", is_flag=True, help="Kept timers count their delay from now.")
@click.option("--by", "by_email", help="Account recorded in the history (default: the command line).")
def migrate(key, from_version, to_version, dry_run, dossier_ids, pairs, restart_timers, by_email):
    """Move the running dossiers of a sequence to another version, printing the report of each dossier."""
    from runtime.actors import Actor, system
    from runtime.migrations import migrate_runs, summarize

    mapping = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise click.BadParameter(f"{pair!r}: écrivez SOURCE=CIBLE.", param_hint="--map")
        mapping[source.strip()] = target.strip()
    try:
        actor = Actor(user_id=accounts.find_user(db.session, by_email).id) if by_email else system("cli")
        reports = migrate_runs(
            db.session, key, actor, now, from_version=from_version, to_version=to_version, mapping=mapping,
            dossiers=list(dossier_ids) or "all", dry_run=dry_run, restart_timers=restart_timers,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    for report in reports:
        actions = report["actions"]
        line = f"dossier {report['dossier_id']}: {report['status']}"
        if report["reason"]:
            line += f" — {report['reason']}"
        else:
            line += (f" — attend : {', '.join(report['waits_after']) or '(fin)'}; actions gardées "
                     f"{len(actions['kept'])}, annulées {len(actions['cancelled'])}, créées "
                     f"{len(actions['created'])}")
            for timer in report["timers"]:
                line += f"; délai {timer['element_id']} → {timer['due_at']}"
        click.echo(line)
    counts = summarize(reports)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(summary or "Aucun dossier en cours.")


def init_app(app) -> None:
    from .demo import demo_command
    from .worker import worker_command

    for command in (user_cli, token_cli, import_files, serve, check, migrate, worker_command, demo_command):
        app.cli.add_command(command)


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help="Séquences: BPMN sequences run dossier by dossier.")
    cli.main(prog_name="sequences")
