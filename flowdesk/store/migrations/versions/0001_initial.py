"""The initial schema: workflows, versions, runs, step runs, run events, external events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("description", sa.String, nullable=False, server_default=""),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "workflow_versions",
        sa.Column("workflow_id", sa.Integer,
                  sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("workflow_name", sa.String, nullable=False),
        sa.Column("workflow_version", sa.Integer, nullable=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("input", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("idempotency_key", sa.String, nullable=True, unique=True),
        sa.Column("parent_run_id", sa.String,
                  sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True),
        sa.Column("parent_step_id", sa.String, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("owner", sa.String, nullable=True),
        sa.Column("lease_until", sa.Float, nullable=True),
        sa.Column("cancel_requested", sa.Text, nullable=True),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_workflow_created", "runs", ["workflow_name", "created_at"])
    op.create_index("ix_runs_created", "runs", ["created_at"])
    op.create_index("ix_runs_parent", "runs", ["parent_run_id"])
    op.create_table(
        "step_runs",
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
    )
    op.create_index("ix_step_runs_status", "step_runs", ["status"])
    op.create_table(
        "run_events",
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
    op.create_table(
        "external_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("consumed_by_run", sa.String, nullable=True),
        sa.Column("consumed_by_step", sa.String, nullable=True),
        sa.Column("consumed_at", sa.Float, nullable=True),
    )
    op.create_index("ix_external_events_name_key", "external_events", ["name", "key"])


def downgrade() -> None:
    for table in ("external_events", "run_events", "step_runs", "runs", "workflow_versions",
                  "workflows"):
        op.drop_table(table)
