"""The timer worker: `sequences worker`, or a thread inside `sequences serve`."""

import click


@click.command("worker")
def worker_command():
    """Fire due timers and send communications (several may run at once on PostgreSQL)."""
    raise click.ClickException("Le worker n'est pas encore disponible.")


def start_embedded(app) -> None:
    pass
