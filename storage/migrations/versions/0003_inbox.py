"""the inbox: processed_updates keeps each update's payload, status and replies until handled

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=12), nullable=False,
                                      server_default="done"))
        batch_op.add_column(sa.Column("chat_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", storage.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f("ix_processed_updates_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_status"))
        for column in ("claimed_at", "claimed_by", "attempts", "replies", "payload", "chat_id",
                       "status"):
            batch_op.drop_column(column)
