"""Who may use the console's relay, and for what: only the console's own fetches (never a navigation,
a `<script src>`, an `<img>` or a form post), and only the operations of published specs.

A request is the console's when it carries `X-Agora-Console: 1`, a header only a same-origin script can
set (a cross-origin one would need a CORS preflight, which the relay does not answer), and, when the
browser sends Fetch Metadata, `Sec-Fetch-Mode` is `cors` or `same-origin`, `Sec-Fetch-Dest` is `empty`
and `Sec-Fetch-Site` is `same-origin`. The operation is looked up in the route table of the newest
gateway snapshot, rebuilt when its revision changes, with the gateway's own route matcher.
"""

from __future__ import annotations

import threading
from urllib.parse import unquote

from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers

from agora.errors import Forbidden, InvalidInput, NotFound
from gateway.config.model import parse_snapshot
from gateway.pipeline.routes import RouteTable
from registry import snapshots
from registry.unit_of_work import read

__all__ = ["CONSOLE_HEADER", "PublishedOperations", "check_console_fetch"]

CONSOLE_HEADER = "x-agora-console"


def check_console_fetch(headers: Headers) -> None:
    """Forbidden unless the request is a fetch by the portal's console (see the module docstring)."""
    if headers.get(CONSOLE_HEADER) != "1":
        raise Forbidden(f"the relay serves the portal's console only (its fetches send {CONSOLE_HEADER}: 1)")
    mode, dest, site = (headers.get(f"sec-fetch-{h}") for h in ("mode", "dest", "site"))
    if mode is not None and mode not in ("cors", "same-origin"):
        raise Forbidden(f"the relay answers the console's fetches, not {mode} requests")
    if dest is not None and dest != "empty":
        raise Forbidden(f"the relay answers the console's fetches, not a {dest} load")
    if site is not None and site != "same-origin":
        raise Forbidden("the relay answers the portal's own pages only")


class PublishedOperations:
    """The route table of the newest snapshot; `check` runs database work: call it off the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._table = RouteTable([])

    def _table_for(self, session: Session) -> RouteTable:
        revision = snapshots.latest_revision(session)
        with self._lock:
            if revision == self._revision:
                return self._table
        document = snapshots.load(session, revision) if revision is not None else None
        table = RouteTable(parse_snapshot(document, revision).services if document else [])
        with self._lock:
            self._revision, self._table = revision, table
        return table

    @staticmethod
    def check_path(raw_path: str) -> None:
        """An encoded separator or a dot segment could match one operation and reach another upstream
        path once decoded (issue 14, item 2): the console never sends them."""
        lowered = raw_path.lower()
        if "%2f" in lowered or "%5c" in lowered or "\\" in raw_path or "%00" in lowered:
            raise InvalidInput("the path holds an encoded separator")
        for segment in unquote(raw_path).split("/"):
            if segment in (".", ".."):
                raise InvalidInput("the path holds a '.' or '..' segment")

    def check(self, sessions: sessionmaker[Session], method: str, raw_path: str) -> None:
        """NotFound unless `method raw_path` (the gateway path, still percent-encoded) is an operation."""
        self.check_path(raw_path)
        with read(sessions) as session:
            table = self._table_for(session)
        match = table.lookup(method, raw_path)
        if match is not None and match.route is None and match.service.status == "retired":
            return  # the gateway answers 410 Gone with the successor
        if match is None or match.route is None:
            raise NotFound(f"no published operation answers {method} {raw_path}")
