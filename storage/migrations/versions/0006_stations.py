"""stations: a `stations` table and `station_id` on every table holding a station's data

Existing rows move to station 1 (the server default), so an installation that served one station
goes on serving it as station 1. `bot.stations.sync_stations` fills the station's facts from the
configuration at start-up; the row inserted here only keeps the id valid until then.

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

STATION_TABLES = (
    "people", "chats", "subscriptions", "message_log", "outbox", "broadcasts", "tickets",
    "children", "reminders",
)


def upgrade() -> None:
    stations = op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.String(512)),
        sa.Column("phone", sa.String(64)),
        sa.Column("hours", sa.JSON()),
        sa.Column("areas", sa.JSON()),
        sa.Column("region", sa.String(16)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.bulk_insert(stations, [{"id": 1, "code": "default", "name": "station 1"}])
    for table in STATION_TABLES:
        # server_default moves every existing row to station 1 in the same statement
        op.add_column(table, sa.Column("station_id", sa.Integer(), nullable=False,
                                       server_default="1"))
        op.create_index(f"ix_{table}_station_id", table, ["station_id"])


def downgrade() -> None:
    for table in reversed(STATION_TABLES):
        op.drop_index(f"ix_{table}_station_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("station_id")
    op.drop_table("stations")
