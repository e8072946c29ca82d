"""Start-up faults as one clear line: what failed, where, and what to do; never a traceback.

`healthbot run` (and `db upgrade`) meet the machine's faults before anything else: a database
path that cannot be created or opened, PostgreSQL on a closed port or without the database, a web
port already taken. `explain(exc, database_url)` turns those into a sentence for the station's
operator; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.health import describe

EXIT_STARTUP_FAULT = 1  # configuration errors exit with 2 (bot.cli)


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as the config has it
        return url


def _innermost(exc: BaseException) -> BaseException:
    seen = exc
    while seen.__cause__ is not None or (seen.__context__ is not None
                                         and not seen.__suppress_context__):
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    return seen


def explain(exc: BaseException, database_url: str, port: int | None = None) -> str | None:
    """One line for a start-up fault, or None when `exc` is not one (a bug: show the traceback)."""
    inner = _innermost(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return (f"the web port {port or ''} is already in use by another program; stop it or set "
                "another [web] port (or --port)").replace("port  is", "port is")
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES) and (
        "bind" in str(exc) or "address" in str(exc)
    ):
        return f"cannot listen on the web address: {exc.strerror}; check [web] host and port"
    database = _shown(database_url)
    if isinstance(exc, SQLAlchemyError | OSError | UnicodeError) or type(inner).__module__.startswith(
        ("asyncpg", "sqlite3", "aiosqlite")
    ):
        reason = describe(exc)
        text = f"{describe(inner)} {str(inner)}".lower()
        if "invalidcatalogname" in text or "does not exist" in text and "database" in text:
            hint = "the database does not exist on that server; create it (createdb) or fix [database] url"
        elif "refused" in text or "connect call failed" in text or "could not connect" in text:
            hint = "nothing answers at that address; start PostgreSQL or fix host/port in [database] url"
        elif "password" in text or "authentication" in text:
            hint = "the server refused the user or password in [database] url"
        elif "unable to open database file" in text or isinstance(
            inner,
            NotADirectoryError | FileNotFoundError | FileExistsError | PermissionError
            | IsADirectoryError,
        ) or "read-only" in text or "readonly" in text:
            hint = "the database file or its folder cannot be created or written; fix [database] url"
        else:
            hint = "check [database] url and that the database is running"
        return f"cannot open the database {database}: {hint} ({reason})"
    return None
