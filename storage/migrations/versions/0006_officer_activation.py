"""officer activation: accounts an administrator created or reset are not activated

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
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    # Officers who already enrolled an authenticator have been using their key, and members
    # may have granted queues to it: they count as activated, so the upgrade keeps their grants.
    # The others activate at their next login (their own password, a new key).
    officers = sa.table(
        "officers",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("totp_wrapped", sa.LargeBinary()),
        sa.column("activated_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        officers.update()
        .where(officers.c.totp_wrapped.is_not(None))
        .values(activated_at=officers.c.created_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_column("activated_at")
