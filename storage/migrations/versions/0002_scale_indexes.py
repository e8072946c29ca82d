"""scale: index chats by person (the set-based reminder sweep looks chats up by person)

Revision ID: 0002_scale
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002_scale"
down_revision = "0002_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_chats_person", "chats", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_chats_person", table_name="chats")
