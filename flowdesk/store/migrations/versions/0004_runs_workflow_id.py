"""Runs belong to their workflow, not to its name: ``runs.workflow_id``; and a run records
the time it was active (``runs.active_seconds``), apart from time spent waiting.

Existing runs are linked to the stored workflow that has their name today (no run is lost;
runs of a name no stored workflow has keep ``workflow_id`` NULL and are still listed by
name). From now on a rename keeps a workflow's history and a new workflow given an old
name starts with none.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("workflow_id", sa.Integer, nullable=True))
    op.execute(
        "UPDATE runs SET workflow_id = "
        "(SELECT workflows.id FROM workflows WHERE workflows.name = runs.workflow_name)"
    )
    op.create_index("ix_runs_workflow_id_created", "runs", ["workflow_id", "created_at"])
    op.add_column("runs", sa.Column("active_seconds", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_index("ix_runs_workflow_id_created", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("workflow_id")
        batch.drop_column("active_seconds")
