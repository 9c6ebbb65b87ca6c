"""The tests' PostgreSQL cluster: a throwaway cluster (``devtools.pgcluster``: Debian's server programs,
a temporary folder in memory, a free port, run as the ``postgres`` user under root) whose databases each
start from one that already holds the schema.

Each pytest-xdist worker starts its own cluster, so the workers share nothing but the machine. A test
gets a database of its own: a new one (``database``: a copy of one holding the schema, a tenth of a
second or more), or one that another test of the same worker handed back to the ``DatabasePool``,
emptied back to the schema (``empty``: a few milliseconds). No test is skipped when PostgreSQL is
missing: the fixture fails and says how to install it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from app.seeding.startup import open_store
from devtools import pgcluster
from devtools.pgcluster import ClusterError

__all__ = ["TEMPLATE", "Cluster", "ClusterError", "DatabasePool"]

#: The database every test's database is a copy of: the schema, no rows.
TEMPLATE = "zstack_template"


class Cluster(pgcluster.Cluster):
    def __init__(self) -> None:
        super().__init__(in_memory=True)
        self._databases = 0
        self._template_rows: dict[str, list[tuple[Any, ...]]] = {}
        #: A connection to each database handed out, kept for emptying it again.
        self._connections: dict[str, psycopg.Connection[tuple[Any, ...]]] = {}

    def start(self) -> Cluster:
        super().start()
        url = self.create_database(TEMPLATE)
        open_store(url).close()
        with psycopg.connect(url) as conn:
            self._template_rows = _rows_of_every_table(conn)
        return self

    def database(self) -> str:
        """The URL of a new database holding the schema and nothing else."""
        self._databases += 1
        return self.create_database(f"test_{self._databases}", template=TEMPLATE)

    def stop(self) -> None:
        for conn in self._connections.values():
            conn.close()
        super().stop()

    def empty(self, url: str) -> None:
        """Put a database back as ``database`` makes it: every table holds the template's rows and no
        others, and no schema but the template's is left (a sandbox's tenants)."""
        conn = self._connections.get(url)
        if conn is None or conn.closed:
            conn = self._connections[url] = psycopg.connect(url, autocommit=True)
            # A server a test left running would hold a lock forever: fail, saying so, rather than hang.
            conn.execute("SET lock_timeout = '30s'")
        with conn.transaction():
            for (schema,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sandbox%'"
            ).fetchall():
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            for table in _tables(conn):
                if table not in self._template_rows:
                    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
            conn.execute(sql.SQL("; ").join(
                sql.SQL("DELETE FROM {}").format(sql.Identifier(table)) for table in self._template_rows
            ))
            for table, rows in self._template_rows.items():
                if rows:
                    marks = sql.SQL(", ").join(sql.Placeholder() * len(rows[0]))
                    insert = sql.SQL("INSERT INTO {} VALUES ({})").format(sql.Identifier(table), marks)
                    conn.cursor().executemany(insert, rows)


def _tables(conn: psycopg.Connection[tuple[Any, ...]]) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return [str(name) for (name,) in rows]


def _rows_of_every_table(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name))).fetchall()
        for name in _tables(conn)
    }


class DatabasePool:
    """The databases of one cluster, each used by one test (or one module's server) at a time: ``take``
    hands out one that was given back, emptied, or else a new one."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._free: list[str] = []

    def take(self) -> str:
        if not self._free:
            return self.cluster.database()
        url = self._free.pop()
        self.cluster.empty(url)
        return url

    def give_back(self, url: str) -> None:
        self._free.append(url)
