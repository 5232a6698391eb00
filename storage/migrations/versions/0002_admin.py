"""admin API: officer TOTP, case workflow columns, clue transfers

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_wrapped", sa.LargeBinary(), nullable=True))

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("handling_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("disposition", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rectification_due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("look_back_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("extended", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_cases_severity", ["severity"], unique=False)
        batch_op.create_index("ix_cases_due_on", ["due_on"], unique=False)
        batch_op.create_index("ix_cases_received_on", ["received_on"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("from_queue", sa.String(length=16), nullable=False),
        sa.Column("to_queue", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("sealed_case_key", sa.LargeBinary(), nullable=True),
        sa.Column("feedback_item_id", sa.String(length=32), nullable=False),
        sa.Column("reason_item_id", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_transfers_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_queue"], ["queues.name"], name=op.f("fk_transfers_from_queue_queues")
        ),
        sa.ForeignKeyConstraint(
            ["to_queue"], ["queues.name"], name=op.f("fk_transfers_to_queue_queues")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_item_id"],
            ["case_items.id"],
            name=op.f("fk_transfers_feedback_item_id_case_items"),
        ),
        sa.ForeignKeyConstraint(
            ["reason_item_id"],
            ["case_items.id"],
            name=op.f("fk_transfers_reason_item_id_case_items"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["officers.id"], name=op.f("fk_transfers_requested_by_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfers_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_transfers_to_queue_status", ["to_queue", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_to_queue_status")
        batch_op.drop_index(batch_op.f("ix_transfers_case_id"))
    op.drop_table("transfers")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_received_on")
        batch_op.drop_index("ix_cases_due_on")
        batch_op.drop_index("ix_cases_severity")
        for column in (
            "extended",
            "look_back_failures",
            "rectification_due_on",
            "disposition",
            "closed_on",
            "handling_due_on",
            "due_on",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_column("totp_wrapped")
