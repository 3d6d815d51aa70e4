"""PostgreSQL: the database itself announces changed and queued runs (LISTEN/NOTIFY), in the
transaction that writes them, with no extra round trip for the writer.

- ``run_events`` (after each INSERT statement): ``NOTIFY flowdesk, '<run id>'`` once per run
  whose events were written — the desks follow runs live (``store/feed.py``);
- ``runs`` (after each INSERT): ``NOTIFY flowdesk, '<run id>'``, and for a queued run (owned by
  nobody, not a sub-workflow's child) ``NOTIFY flowdesk_queue, '<run id>'`` — the workers
  take it (``run_queue.py``).

SQLite has no notifications: nothing changes there (the feed polls).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION flowdesk_notify_events() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('flowdesk', changed.run_id)
            FROM (SELECT DISTINCT run_id FROM new_events) AS changed;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER run_events_notify AFTER INSERT ON run_events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION flowdesk_notify_events()""")
    op.execute("""
        CREATE OR REPLACE FUNCTION flowdesk_notify_run() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('flowdesk', NEW.id);
            IF NEW.owner IS NULL AND NEW.parent_run_id IS NULL THEN
                PERFORM pg_notify('flowdesk_queue', NEW.id);
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER runs_notify AFTER INSERT ON runs
        FOR EACH ROW EXECUTE FUNCTION flowdesk_notify_run()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS runs_notify ON runs")
    op.execute("DROP FUNCTION IF EXISTS flowdesk_notify_run()")
    op.execute("DROP TRIGGER IF EXISTS run_events_notify ON run_events")
    op.execute("DROP FUNCTION IF EXISTS flowdesk_notify_events()")
