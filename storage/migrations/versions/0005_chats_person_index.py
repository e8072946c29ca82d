"""scale: index chats by person (the set-based reminder sweep looks chats up by person)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_chats_person", "chats", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_chats_person", table_name="chats")
