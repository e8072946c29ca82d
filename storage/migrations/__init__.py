"""Alembic migrations for healthbot."""
