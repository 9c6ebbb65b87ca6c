"""The throwaway PostgreSQL cluster of the tests and tools (``devtools.pgcluster``): without the server
installed, the tests that need it fail with how to install it (never skipped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import pgcluster


def test_a_missing_server_is_an_error_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgcluster, "DEBIAN_ROOT", tmp_path)
    with pytest.raises(pgcluster.ClusterError, match=r"apt-get install -y --no-install-recommends postgresql"):
        pgcluster.Cluster()


def test_the_newest_installed_server_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for version in ("9", "15", "13"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    monkeypatch.setattr(pgcluster, "DEBIAN_ROOT", tmp_path)
    assert pgcluster.server_programs() == tmp_path / "15" / "bin"
