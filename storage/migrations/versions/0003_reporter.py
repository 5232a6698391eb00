"""Reporter conversation: intake metadata (recusal, triage suggestion) per case.

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
    op.create_table(
        "case_intake",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("involves_handler", sa.String(length=16), nullable=True),
        sa.Column("handler_route", sa.String(length=16), nullable=True),
        sa.Column("suggested_category", sa.String(length=32), nullable=True),
        sa.Column("suggested_routing", sa.String(length=16), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_intake_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_intake")),
    )


def downgrade() -> None:
    op.drop_table("case_intake")
