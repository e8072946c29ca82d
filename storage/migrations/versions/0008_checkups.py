"""check-ups (issue 20): sessions, time slots, residents' bookings; satisfaction survey

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _station() -> sa.Column:
    return sa.Column("station_id", sa.Integer(), nullable=False, server_default="1")


def upgrade() -> None:
    op.create_table(
        "checkup_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(255), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("priority_groups", sa.String(255), nullable=False),
        sa.Column("bring", sa.String(255), nullable=False),
        sa.Column("fasting", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_checkup_sessions_station_id", "checkup_sessions", ["station_id"])
    op.create_index("ix_checkup_sessions_starts_at", "checkup_sessions", ["starts_at"])
    op.create_table(
        "checkup_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("session_id", sa.Integer(),
                  sa.ForeignKey("checkup_sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
    )
    op.create_index("ix_checkup_slots_station_id", "checkup_slots", ["station_id"])
    op.create_index("ix_checkup_slots_session_id", "checkup_slots", ["session_id"])
    op.create_table(
        "checkup_bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("session_id", sa.Integer(),
                  sa.ForeignKey("checkup_sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("slot_id", sa.Integer(),
                  sa.ForeignKey("checkup_slots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL")),
        sa.Column("full_name", sa.String(128)),
        sa.Column("birth_year", sa.Integer()),
        sa.Column("phone", sa.String(32)),
        sa.Column("area_code", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attended_at", UTCDateTime()),
    )
    op.create_index("ix_checkup_bookings_station_id", "checkup_bookings", ["station_id"])
    op.create_index("ix_checkup_bookings_session_id", "checkup_bookings", ["session_id"])
    op.create_index("ix_checkup_bookings_person_id", "checkup_bookings", ["person_id"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
    )
    op.create_index("ix_survey_responses_station_id", "survey_responses", ["station_id"])
    op.create_index("ix_survey_responses_created_at", "survey_responses", ["created_at"])
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        _station(),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("response_id", sa.Integer()),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_survey_invitations_station_id", "survey_invitations", ["station_id"])
    op.create_index("ix_survey_invitations_person_id", "survey_invitations", ["person_id"])


def downgrade() -> None:
    op.drop_table("survey_invitations")
    op.drop_table("survey_responses")
    op.drop_table("checkup_bookings")
    op.drop_table("checkup_slots")
    op.drop_table("checkup_sessions")
