"""`sequences demo`: users, partners, dossiers and the rent-arrears library."""

import click


@click.command("demo")
def demo_command():
    """Load the demo (idempotent)."""
    click.echo("Démo : rien à charger pour l'instant.")
