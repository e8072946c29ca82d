"""report (issue 17): subscriptions that ended, so past subscriber counts stay right

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("person_key", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_ended_subscriptions_station_id", "ended_subscriptions", ["station_id"])
    op.create_index("ix_ended_subscriptions_person_key", "ended_subscriptions", ["person_key"])
    op.create_index("ix_ended_subscriptions_ended_at", "ended_subscriptions", ["ended_at"])


def downgrade() -> None:
    op.drop_table("ended_subscriptions")
