"""The tests' PostgreSQL cluster: a throwaway cluster (``devtools.pgcluster``: Debian's server programs,
a temporary folder, a free port, run as the ``postgres`` user under root) whose databases each start
from one that already holds the schema.

Each pytest-xdist worker starts its own cluster, so the workers share nothing but the machine. No test
is skipped when PostgreSQL is missing: the fixture fails and says how to install it.
"""

from __future__ import annotations

from app.seeding.startup import open_store
from devtools import pgcluster
from devtools.pgcluster import ClusterError

__all__ = ["TEMPLATE", "Cluster", "ClusterError"]

#: The database every test's database is a copy of: the schema, no rows.
TEMPLATE = "zstack_template"


class Cluster(pgcluster.Cluster):
    def __init__(self) -> None:
        super().__init__()
        self._databases = 0

    def start(self) -> Cluster:
        super().start()
        open_store(self.create_database(TEMPLATE)).close()
        return self

    def database(self) -> str:
        """The URL of a new database holding the schema and nothing else."""
        self._databases += 1
        return self.create_database(f"test_{self._databases}", template=TEMPLATE)
