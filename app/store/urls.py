"""What a ``--database-url`` names, without importing either database's driver."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(database_url: str) -> bool:
    return database_url.startswith(POSTGRES_SCHEMES)


def display_url(database_url: str) -> str:
    """The URL as messages and logs show it: a PostgreSQL URL without its password."""
    if not is_postgres_url(database_url):
        return database_url
    try:
        parts = urlsplit(database_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://(unreadable URL)"
    user = f"{parts.username}@" if parts.username else ""
    return f"{database_url.split('://', 1)[0]}://{user}{host}{port}{parts.path}"


def database_errors() -> tuple[type[Exception], ...]:
    """The drivers' own errors, of the drivers this process loaded."""
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)
