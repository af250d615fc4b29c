"""Where snapshots come from: a seam with one blocking method, `poll()`, run in a worker thread.

    FileSource      a JSON file (`agora gateway --snapshot FILE`, DB-less); re-read when it changes
    DatabaseSource  the registry's `gateway_configs` table, through `registry.snapshots`

`poll()` returns `(document, revision)` when there is something new, None when nothing changed, and
raises `Unavailable` when the source cannot be read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from agora.errors import Unavailable

__all__ = ["DatabaseSource", "FileSource", "SnapshotSource", "read_cache", "write_cache"]

Polled = tuple[dict[str, Any], int | None]


class SnapshotSource(Protocol):
    description: str

    def poll(self) -> Polled | None: ...


class FileSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path}"
        self._stamp: tuple[int, int, int] | None = None

    def poll(self) -> Polled | None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if stamp == self._stamp:
                return None
            document = json.loads(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            raise Unavailable(f"cannot read snapshot file {self.path}: {exc}") from exc
        self._stamp = stamp
        return document, None


class DatabaseSource:
    """Polls the newest revision (a cheap query) and loads the document only when it changes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = "database"
        self.revision: int | None = None
        self._sessions: Any = None

    def poll(self) -> Polled | None:
        try:
            from registry import db, snapshots  # the control plane's modules, loaded only in this mode

            if self._sessions is None:
                self._sessions = db.make_sessionmaker(db.make_engine(self.url))
            with self._sessions() as session:
                revision = snapshots.latest_revision(session)
                if revision is None or revision == self.revision:
                    return None
                document = snapshots.load(session, revision)
        except Exception as exc:  # SQLAlchemy's and the driver's errors end here
            raise Unavailable(
                f"cannot read snapshots from the database: {type(exc).__name__}: {exc}"
            ) from exc
        if document is None:
            return None
        self.revision = revision
        return document, revision


def write_cache(path: Path, document: dict[str, Any], revision: int | None) -> None:
    """Keeps the last good snapshot on disk; atomic, so concurrent workers never leave half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"revision": revision, "document": document}))
    os.replace(temporary, path)


def read_cache(path: Path) -> Polled | None:
    try:
        stored = json.loads(path.read_text())
        return stored["document"], stored.get("revision")
    except (OSError, ValueError, KeyError, TypeError):
        return None
