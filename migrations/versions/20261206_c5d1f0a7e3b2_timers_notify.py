"""timers announce themselves: a worker asleep is woken by a timer due before it would wake

Revision ID: c5d1f0a7e3b2
Revises: e2a9d4c6b813
Create Date: 2026-12-06 09:30:00

PostgreSQL only: after each statement that inserts or updates timers, the earliest due time among the rows
it left pending and unclaimed is sent with NOTIFY on the channel `sequences_timers` (runtime/timers.py:
CHANNEL), at the commit of the transaction that wrote them, whatever process wrote them. Claims and firings
leave their rows claimed or fired, so they announce nothing. SQLite has no NOTIFY: its workers wait at most
their interval, as before. Nothing to backfill.
"""

from alembic import op

revision = "c5d1f0a7e3b2"
down_revision = "e2a9d4c6b813"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION timers_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    first timestamp;
BEGIN
    SELECT min(due_at) INTO first FROM changed
     WHERE fired_at IS NULL AND cancelled_at IS NULL AND claimed_until IS NULL;
    IF first IS NOT NULL THEN
        PERFORM pg_notify('sequences_timers', extract(epoch FROM first)::text);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for verb in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER timers_announce_{verb.lower()} AFTER {verb} ON timers "
            "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION timers_announce()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for verb in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS timers_announce_{verb} ON timers")
    op.execute("DROP FUNCTION IF EXISTS timers_announce()")
