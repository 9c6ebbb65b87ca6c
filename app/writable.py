"""Whether the server can write a file it is about to create or rewrite, found out by trying.

Permission bits alone would mislead: root ignores them, and a read-only mount or a directory that
is really a file refuses everyone. So a probe file is created (and removed) beside the target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_problem(path: Path) -> str | None:
    """Why ``path`` cannot be created or rewritten (a short clause), or None if it can."""
    directory = path.parent
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        return f"cannot create files in {directory}: {exc.strerror or exc}"
    os.close(handle)
    os.unlink(probe)
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            return f"cannot open it for writing: {exc.strerror or exc}"
    return None


def ownership_fix(path: Path) -> str:
    """What an operator does about it: the user to give the directory to, or another path."""
    if not hasattr(os, "getuid"):
        return f"make {path.parent} writable by this user, or choose another path"
    uid, gid = os.getuid(), os.getgid()
    return (f"make {path.parent} writable by user {uid} (e.g. chown {uid}:{gid} on the host's directory of a bind "
            "mount), or choose another path")
