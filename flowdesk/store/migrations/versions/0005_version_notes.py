"""A saved version may carry a note (``workflow_versions.note``); the draft/published split
needs no other column: ``workflows.definition`` is the draft the editor autosaves, and the
published version is the ``workflow_versions`` row numbered ``workflows.version``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflow_versions", sa.Column("note", sa.String, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow_versions") as batch:
        batch.drop_column("note")
