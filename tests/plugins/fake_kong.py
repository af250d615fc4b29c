"""A PDK double for calling one plugin's phase directly: the request is given, what the plugin does
to the upstream request and the answer is recorded. Only the calls the plugins under test make."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["Answered", "FakeKong"]


class Answered(Exception):
    """kong.response.error/exit: the phase ends with this answer."""

    def __init__(self, status: int, message: Any, headers: dict[str, Any] | None) -> None:
        super().__init__(status, message)
        self.status, self.message, self.headers = status, message, headers or {}


class FakeKong:
    def __init__(
        self,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        query: str = "",
        credentials: dict[str, tuple[dict[str, Any], dict[str, Any]]] | None = None,
        consumers: list[dict[str, Any]] = (),
    ) -> None:
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.raw_query = query
        self.upstream_headers = dict(self.headers)
        self.upstream_query = query
        self.consumer: dict[str, Any] | None = None
        self.credential: dict[str, Any] | None = None
        self.errors: list[str] = []
        found = credentials or {}
        self.request = SimpleNamespace(
            get_method=lambda: method,
            get_header=lambda name: self.headers.get(name.lower()),
            get_headers=lambda: dict(self.headers),
            get_raw_query=lambda: self.raw_query,
            get_query=self._query,
        )
        self.client = SimpleNamespace(
            get_forwarded_ip=lambda: "192.0.2.10",
            authenticate=self._authenticate,
            get_credential=lambda: self.credential,
            get_consumer=lambda: self.consumer,
        )
        self.service = SimpleNamespace(
            request=SimpleNamespace(
                clear_header=lambda name: self.upstream_headers.pop(name.lower(), None),
                set_header=self._set_upstream_header,
                set_headers=lambda values: [self._set_upstream_header(k, v) for k, v in values.items()],
                set_raw_query=lambda query: setattr(self, "upstream_query", query),
            )
        )
        self.response_headers: dict[str, Any] = {}
        self.response = SimpleNamespace(
            error=self._answer,
            exit=self._answer,
            set_header=self.response_headers.__setitem__,
            set_headers=self.response_headers.update,
        )
        self.router = SimpleNamespace(get_service=lambda: {"name": "gov.test.v1"}, get_route=lambda: {})
        self.agora = SimpleNamespace(
            find_credential=found.get,
            find_consumer=lambda name: next((c for c in consumers if name in (c["id"], c["username"])), None),
            get_plan=lambda name: None,
        )
        self.ctx = SimpleNamespace(shared={}, plugin={})
        self.log = SimpleNamespace(err=self.errors.append, warn=self.errors.append)

    def _query(self) -> dict[str, str | list[str]]:
        out: dict[str, str | list[str]] = {}
        for name, value in parse_qsl(self.raw_query, keep_blank_values=True):
            previous = out.get(name)
            if previous is None:
                out[name] = value
            else:  # a repeated argument: Kong's get_query gives a list
                out[name] = [*([previous] if isinstance(previous, str) else previous), value]
        return out

    def _set_upstream_header(self, name: str, value: Any) -> None:
        self.upstream_headers[name.lower()] = value

    def _authenticate(self, consumer: dict[str, Any] | None, credential: dict[str, Any] | None) -> None:
        self.consumer, self.credential = consumer, credential

    def _answer(self, status: int, message: Any = None, headers: dict[str, Any] | None = None) -> None:
        raise Answered(status, message, headers)
