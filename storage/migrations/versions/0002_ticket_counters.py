"""reliability: ticket code counters, message_log.user_id

Ticket code counters: one row per year's series, seeded from existing codes. message_log.user_id:
the author of an inbound message, so erasure finds what a resident wrote in a group.

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
    counters = op.create_table(
        "ticket_counters",
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series"),
    )
    # Existing codes look like PA-2026-000123: each series continues after its highest number.
    highest: dict[str, int] = {}
    for (code,) in op.get_bind().execute(sa.text("SELECT code FROM tickets WHERE code IS NOT NULL")):
        series, _sep, number = code.rpartition("-")
        if series and number.isdigit():
            highest[series] = max(highest.get(series, 0), int(number))
    if highest:
        op.bulk_insert(counters, [{"series": s, "last_number": n} for s, n in highest.items()])
    # Who wrote an inbound message, so erasure also finds what a resident wrote in a group.
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("user_id")
    op.drop_table("ticket_counters")
