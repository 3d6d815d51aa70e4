"""Replace the index on every step status with a partial index on waiting steps.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_step_runs_status", table_name="step_runs")
    op.create_index("ix_step_runs_waiting", "step_runs", ["status"],
                    sqlite_where=sa.text("status = 'waiting'"))


def downgrade() -> None:
    op.drop_index("ix_step_runs_waiting", table_name="step_runs")
    op.create_index("ix_step_runs_status", "step_runs", ["status"])
