"""report (issue 17): facts the periodic report needs that nothing recorded before

`report_facts`: one row per question asked (answered / unanswered / red flag, with the topic but
never the text) and per opt-out; kept for the report, not purged with the chat history, and free
of personal data. `broadcasts.approved_at`: when a broadcast was released, so an urgent alert's
time from approval to last delivery can be measured.

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


def upgrade() -> None:
    op.create_table(
        "report_facts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("area_code", sa.String(32), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_report_facts_kind_at", "report_facts", ["kind", "created_at"])
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("approved_at")
    op.drop_index("ix_report_facts_kind_at", table_name="report_facts")
    op.drop_table("report_facts")
