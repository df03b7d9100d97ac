"""The `sequences` command (SPEC §7), built on Flask's CLI."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup

from bpmn.errors import DomainError
from designer import accounts, services

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
        user = accounts.create_user(
            db.session, email=email, name=name, kind=kind, role=role, password=password, now=now()
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Utilisateur {user.email} créé (id {user.id}).")


@token_cli.command("create")
@click.option("--email", required=True)
def create_token(email):
    """Print a new API token for a user."""
    try:
        token = accounts.create_token(db.session, accounts.find_user(db.session, email), now())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(token)


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--publish", is_flag=True, help="Publish each file that is valid.")
def import_files(files, publish):
    """Store BPMN files as drafts (and publish them); print the problems per element."""
    failed = 0
    # Several files may call each other: publish in dependency order by retrying until nothing moves.
    pending = list(files)
    while pending:
        progressed, still = False, []
        for path in pending:
            ok, retry = _import_one(path, publish, last_round=False)
            if retry:
                still.append(path)
            else:
                progressed = True
                failed += not ok
        if not progressed:
            for path in still:
                ok, _ = _import_one(path, publish, last_round=True)
                failed += not ok
            break
        pending = still
    if failed:
        sys.exit(1)


def _import_one(path: Path, publish: bool, last_round: bool) -> tuple[bool, bool]:
    """Returns (ok, retry later)."""
    try:
        sequence, _, report = services.save_draft(db.session, path.read_bytes(), None, now())
        if publish:
            version = services.publish_version(db.session, sequence.key, None, now())
    except DomainError as error:
        db.session.rollback()
        issues = error.details.get("issues", [])
        unknown_only = issues and all(
            i["code"] in ("called_sequence_unknown", "next_sequence_unknown") for i in issues
        )
        if unknown_only and not last_round:
            return False, True
        click.echo(f"{path}: {error.message}", err=True)
        for issue in issues:
            click.echo(
                f"  - {issue['element_id'] or '(fichier)'} [{issue['code']}] {issue['message']}", err=True
            )
        return False, False
    db.session.commit()
    if publish:
        click.echo(f"{path}: « {sequence.key} » publiée en version {version.number}.")
    else:
        click.echo(f"{path}: brouillon « {sequence.key} » enregistré ({len(report.issues)} problème(s)).")
        for issue in report.issues:
            click.echo(f"  - {issue.element_id or '(fichier)'} [{issue.code}] {issue.message}")
    return True, False


@click.command("serve")
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


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help="Séquences: BPMN sequences run dossier by dossier.")
    cli.add_command(user_cli)
    cli.add_command(token_cli)
    cli.add_command(import_files)
    cli.add_command(serve)
    from .worker import worker_command

    cli.add_command(worker_command)
    from .demo import demo_command

    cli.add_command(demo_command)
    cli.main(prog_name="sequences")
