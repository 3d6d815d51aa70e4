"""The SQLAlchemy Core tables. The alembic migrations create exactly these (a test compares
them). Times are epoch seconds (REAL); JSON values are stored as TEXT."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "external_events",
    "metadata",
    "run_events",
    "runs",
    "settings",
    "step_runs",
    "workflow_pins",
    "workflow_versions",
    "workflows",
]

metadata = sa.MetaData()

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("description", sa.String, nullable=False, server_default=""),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

workflow_versions = sa.Table(
    "workflow_versions",
    metadata,
    sa.Column("workflow_id", sa.Integer,
              sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("note", sa.String, nullable=True),
)

# pinned step outputs (test a step without running its upstream); not part of a version
workflow_pins = sa.Table(
    "workflow_pins",
    metadata,
    sa.Column("workflow_id", sa.Integer,
              sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("step_id", sa.String, primary_key=True),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("pinned_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("workflow_name", sa.String, nullable=False),
    # the stored workflow the run belongs to (its name may change; NULL: run from a file)
    sa.Column("workflow_id", sa.Integer, nullable=True),
    sa.Column("workflow_version", sa.Integer, nullable=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("input", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    # time the run was being executed (all its attempts), without time paused or idle
    sa.Column("active_seconds", sa.Float, nullable=True),
    sa.Column("idempotency_key", sa.String, nullable=True),
    # whose key it is: "workflow:<id>" (a stored workflow) or "file:<name>"; a key is unique
    # per workflow (uq_runs_idempotency)
    sa.Column("idempotency_scope", sa.String, nullable=True),
    sa.Column("parent_run_id", sa.String,
              sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True),
    sa.Column("parent_step_id", sa.String, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("owner", sa.String, nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("cancel_requested", sa.Text, nullable=True),
    sa.Index("ix_runs_status", "status"),
    sa.Index("ix_runs_workflow_created", "workflow_name", "created_at"),
    sa.Index("ix_runs_workflow_id_created", "workflow_id", "created_at"),
    sa.Index("ix_runs_created", "created_at"),
    sa.Index("ix_runs_parent", "parent_run_id"),
    sa.Index("uq_runs_idempotency", "idempotency_scope", "idempotency_key", unique=True),
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    sa.Column("run_id", sa.String,
              sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("step_id", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt_log", sa.Text, nullable=True),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("state", sa.Text, nullable=True),
    sa.Column("branch", sa.String, nullable=True),
    # only waiting steps are looked up by status: a partial index stays tiny and cheap
    sa.Index("ix_step_runs_waiting", "status", sqlite_where=sa.text("status = 'waiting'")),
)

run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String,
              sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("step_id", sa.String, nullable=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),
)

# events sent from outside (flowdesk send-event) and kept until a waiting step takes them
external_events = sa.Table(
    "external_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=True),
    sa.Column("data", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("consumed_by_run", sa.String, nullable=True),
    sa.Column("consumed_by_step", sa.String, nullable=True),
    sa.Column("consumed_at", sa.Float, nullable=True),
    sa.Index("ix_external_events_name_key", "name", "key"),
)

# small key/value settings kept in the database (e.g. how long runs are kept)
settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
