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

# Rows per statement; SQLAlchemy's "insertmanyvalues" batches them further for the driver.
CHUNK = 5000


async def enqueue_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows (dicts of Outbox columns); rows whose dedupe key exists are skipped.

    Core executemany on the session's connection: the statement is compiled once and sent in
    multi-row batches (an ORM or a `.values([...])` insert compiled 11 parameters per row).
    """
    if not rows:
        return 0
    connection = await session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = Outbox.__table__
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    )
    added = 0
    for start in range(0, len(rows), CHUNK):
        added += len((await connection.execute(stmt, list(rows[start:start + CHUNK]))).all())
    return added
