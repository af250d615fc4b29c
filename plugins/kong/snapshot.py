"""Agora's snapshot as the plugin servers read it inside Kong: the source of `kong.agora.*`.

Kong's declarative config carries no key, prefix or digest (docs/kong.md), so a plugin server reads
the snapshot file the registry compiled (`AGORA_SNAPSHOT`, default `/kong/agora-snapshot.json`),
the same document Agora's gateway serves. The file is re-read when its modification time changes
(looked at most once per `RECHECK_SECONDS`), so new keys and grants reach Kong without restarting
the plugin servers; a file that cannot be read or parsed leaves the last good snapshot in place.

Besides the gateway's indexes (credentials by prefix), the view maps Kong's entities back to the
snapshot's: a Kong service by its name (the snapshot service name), a Kong route by the name the
export gave it (`registry.compile.kong_services.route_names`), and a Kong consumer by `custom_id`
(the application id).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config.model import Route, Service, Snapshot, parse_snapshot
from registry.compile.kong_consumers import usernames
from registry.compile.kong_services import route_names

__all__ = ["DEFAULT_SNAPSHOT", "RECHECK_SECONDS", "SnapshotFile", "SnapshotView", "index"]

DEFAULT_SNAPSHOT = "/kong/agora-snapshot.json"
RECHECK_SECONDS = 1.0
log = logging.getLogger("agora.kong")


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """One snapshot with the lookups the Kong adapter needs; immutable, swapped whole on reload."""

    snapshot: Snapshot
    services: dict[str, Service] = field(default_factory=dict)
    routes: dict[str, tuple[Service, Route]] = field(default_factory=dict)  # Kong route name ->
    consumers: dict[str, dict[str, Any]] = field(default_factory=dict)  # application id ->
    kong_usernames: dict[str, str] = field(default_factory=dict)  # application id -> Kong username
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)  # credential id ->

    def find_credential(self, prefix: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return self.snapshot.credentials.get(prefix)

    def find_consumer(self, id_or_username: str) -> dict[str, Any] | None:
        """As the gateway's `kong.agora.find_consumer`: by id, else by username."""
        found = self.consumers.get(id_or_username)
        return found or next(
            (c for c in self.snapshot.consumers if c.get("username") == id_or_username), None
        )

    def get_plan(self, name: str) -> dict[str, Any] | None:
        plan = self.snapshot.plans.get(name)
        return plan if isinstance(plan, dict) else None


def index(doc: dict[str, Any]) -> SnapshotView:
    snapshot = parse_snapshot(doc)
    routes: dict[str, tuple[Service, Route]] = {}
    for service in snapshot.services:
        # The export names routes in this order (registry/compile/kong_services.py `_routes`).
        ordered = sorted(service.routes, key=lambda r: (r.path, r.method))
        for name, route in zip(route_names(service.name, [r.raw for r in ordered]), ordered, strict=True):
            routes[name] = (service, route)
    consumers = {str(c.get("id")): c for c in snapshot.consumers}
    credentials = {
        str(cred.get("id")): cred for c in snapshot.consumers for cred in c.get("credentials") or ()
    }
    return SnapshotView(
        snapshot=snapshot,
        services={s.name: s for s in snapshot.services},
        routes=routes,
        consumers=consumers,
        kong_usernames=usernames(snapshot.consumers) if snapshot.consumers else {},
        credentials=credentials,
    )


_EMPTY = index({"format": 1})


class SnapshotFile:
    """The current view of one snapshot file, reloaded when the file changes."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path or os.environ.get("AGORA_SNAPSHOT") or DEFAULT_SNAPSHOT)
        self._view = _EMPTY
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> SnapshotView:
        now = time.monotonic()
        if now - self._checked >= RECHECK_SECONDS:
            with self._lock:
                if now - self._checked >= RECHECK_SECONDS:
                    self._reload()
                    self._checked = now
        return self._view

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            if self._stamp is not None or self._checked == 0.0:
                log.error("agora snapshot %s unreadable: %s", self.path, exc)
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            self._view = index(json.loads(self.path.read_bytes()))
        except Exception as exc:  # a bad file must not take the last good snapshot away
            log.error("agora snapshot %s refused, keeping the previous one: %s", self.path, exc)
        self._stamp = stamp
