"""console (issue 18): sign-in limits shared by every worker without Redis

Revision ID: 0012
Revises: 0011 (unanswered questions)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_console_attempts_station_id", "console_attempts", ["station_id"])
    op.create_index("ix_console_attempts_at", "console_attempts", ["at"])
    op.create_index("ix_console_attempts_kind_key_at", "console_attempts",
                    ["kind", "key_hash", "at"])


def downgrade() -> None:
    op.drop_table("console_attempts")
