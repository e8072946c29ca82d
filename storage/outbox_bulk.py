"""Queue many outbox rows in a few statements (the reminder sweep at province scale).

`enqueue_many` is `storage.outbox.enqueue` for a list: one multi-row INSERT per chunk with
ON CONFLICT (dedupe_key) DO NOTHING, so it keeps enqueue's promise (a key queued before is never
queued again) without a round trip per row. Returns how many rows were new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox

# Rows per INSERT: 12 columns each stays under PostgreSQL's 32,767 and SQLite's 32,766 parameters.
CHUNK = 1000


async def enqueue_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows (dicts of Outbox columns); rows whose dedupe key exists are skipped."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = 0
    for start in range(0, len(rows), CHUNK):
        stmt = (
            insert(Outbox)
            .values(list(rows[start:start + CHUNK]))
            .on_conflict_do_nothing(index_elements=[Outbox.dedupe_key])
            .returning(Outbox.id)
        )
        added += len((await session.execute(stmt)).all())
    return added
