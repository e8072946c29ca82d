"""the web console (issue 18): one-time sign-in codes, sessions, the audit log

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


def _station() -> sa.Column:
    return sa.Column("station_id", sa.Integer(), nullable=False, server_default="1")


def upgrade() -> None:
    op.create_table(
        "console_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("flow_hash", sa.String(64), nullable=False),
        sa.Column("member", sa.String(128), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
    )
    op.create_index("ix_console_codes_station_id", "console_codes", ["station_id"])
    op.create_index("ix_console_codes_flow_hash", "console_codes", ["flow_hash"])
    op.create_index("ix_console_codes_expires_at", "console_codes", ["expires_at"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("member", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
    )
    op.create_index("ix_console_sessions_station_id", "console_sessions", ["station_id"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_console_audit_station_id", "console_audit", ["station_id"])
    op.create_index("ix_console_audit_at", "console_audit", ["at"])


def downgrade() -> None:
    op.drop_table("console_audit")
    op.drop_table("console_sessions")
    op.drop_table("console_codes")
