"""Idempotency keys are unique per workflow, not across the whole database: a key used by a
run of workflow A no longer returns that run when workflow B is started with it.

``runs.idempotency_scope`` says whose key it is — ``workflow:<id>`` for a run of a stored
workflow (a rename keeps it), ``file:<name>`` for a run from a file — and the unique index
is now on (scope, key). Existing keys are kept and scoped to the workflow of their run (they
were unique across the database, so they stay unique per workflow). On SQLite the table is
rebuilt to drop the old column constraint; ``migrate`` runs migrations with foreign keys
off, so rebuilding ``runs`` does not cascade to its steps and events.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_SQLITE_NAME = "uq_runs_idempotency_key"


def upgrade() -> None:
    op.add_column("runs", sa.Column("idempotency_scope", sa.String, nullable=True))
    op.execute(
        "UPDATE runs SET idempotency_scope = CASE WHEN workflow_id IS NULL "
        "THEN 'file:' || workflow_name ELSE 'workflow:' || CAST(workflow_id AS VARCHAR) END "
        "WHERE idempotency_key IS NOT NULL")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # the old constraint is unnamed: a naming convention gives the reflected one a name
        with op.batch_alter_table(
                "runs", recreate="always",
                naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch:
            batch.drop_constraint(_OLD_SQLITE_NAME, type_="unique")
    else:
        for constraint in sa.inspect(bind).get_unique_constraints("runs"):
            name = constraint["name"]
            if constraint["column_names"] == ["idempotency_key"] and name:
                op.drop_constraint(name, "runs", type_="unique")
    op.create_index("uq_runs_idempotency", "runs", ["idempotency_scope", "idempotency_key"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_runs_idempotency", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("idempotency_scope")
        batch.create_unique_constraint(_OLD_SQLITE_NAME, ["idempotency_key"])
