"""Pinned step outputs of a stored workflow (``workflow_pins``): what "Test step" feeds a
step instead of running its upstream steps. Kept beside the workflow, not in its definition,
so a pin change is no new version and never reaches a published run or an export.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_pins",
        sa.Column("workflow_id", sa.Integer,
                  sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("step_id", sa.String, primary_key=True),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("pinned_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workflow_pins")
