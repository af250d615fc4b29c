"""`usage-metering`: one usage record per request that reached an API's operation.

A record holds when the request started, agency, API, version and operation id (from the snapshot's
service and route), the application and credential ids (from key-auth's `kong.client.authenticate`),
the status, total and upstream latency, bytes in and out, and the client address truncated to its
/24 (IPv4) or /48 (IPv6). Never a body, a header, a query string or a key. Refusals by other plugins
(401, 403, 429) are recorded too: the log phase runs for every request of the route.

The log phase runs after the response has been sent and only appends a tuple to the process's
recorder (recorder.py), which writes batches from its own thread to the backend (backends/).
Priority 12, Kong's http-log: after every plugin that could change the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.fast import FastPath, Host, State
from plugins.usage_metering.backends import make_store, store_target
from plugins.usage_metering.record import Usage
from plugins.usage_metering.recorder import Recorder, batching, recorder_for
from plugins.usage_metering.recorder import shutdown as shutdown_recorders
from plugins.usage_metering.schema import Schema

__all__ = ["PRIORITY", "VERSION", "Plugin", "Schema", "priority", "shutdown", "version"]

PRIORITY = 12  # Kong's http-log
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION


def shutdown() -> None:
    """Called once by the gateway on a graceful stop: every pending record is written."""
    shutdown_recorders()


class Plugin:
    run_in_thread = False  # the log phase does no I/O: it appends to a deque

    def __init__(self, config: dict[str, Any]) -> None:
        interval, batch, most = batching("usage-metering", config)
        backend, where = store_target(config["backend"], config["http_endpoint"])
        self.key = (backend, where, interval, batch, most)
        self.recorder = self._recorder()
        # service name -> (agency, api, version); an instance lives for one snapshot, so this stays true.
        self._services: dict[str, tuple[str, str, str]] = {}

    def _recorder(self) -> Recorder:
        backend, where, interval, batch, most = self.key

        def make() -> Recorder:
            store = make_store(backend, where)
            return Recorder(
                store, flush_interval=interval, batch_size=batch, max_pending=most, name=f"-{backend}",
                early=True,
            )  # fmt: skip

        return recorder_for(self.key, make)

    def log(self, kong: Any) -> None:
        facts = kong.log.serialize()
        name = facts["service"]
        if name is None:
            return
        service = self._services.get(name)
        if service is None:
            service = self._service(name, kong.router.get_service() or {})
        self._record(
            service, facts["started_at"], facts["route"], facts["consumer"], facts["credential"],
            facts["status"], facts["latency_total_ms"], facts["latency_upstream_ms"], facts["bytes_in"],
            facts["bytes_out"], kong.client.get_forwarded_ip(),
        )  # fmt: skip

    def _service(self, name: str, raw: Mapping[str, Any]) -> tuple[str, str, str]:
        found = self._services[name] = (str(raw.get("agency")), str(raw.get("api")), str(raw.get("version")))
        return found

    def _record(
        self, service: tuple[str, str, str], started_at: float, route: str | None, consumer: str | None,
        credential: str | None, status: int, latency_ms: float, upstream_ms: float | None, bytes_in: int,
        bytes_out: int, client_ip: str,
    ) -> None:  # fmt: skip
        """One record, from the service's (agency, api, version) and the request's facts."""
        recorder = self.recorder
        if recorder.closed:  # the gateway stopped one; a request still finishing gets a fresh one
            recorder = self.recorder = self._recorder()
        agency, api, version = service
        usage = Usage(
            next(recorder.seq), started_at, agency, api, version, route, consumer, credential, status,
            latency_ms, upstream_ms, bytes_in, bytes_out, client_ip,
        )  # fmt: skip
        recorder.add(usage)

    def fast_path(self, host: Host, service: Mapping[str, Any]) -> FastPath | None:
        """The log phase on the request's facts as the gateway keeps them (a tuple), not a dict copy."""
        name = service.get("name")
        if not isinstance(name, str):
            return None
        known = self._service(name, service)
        record = self._record

        def log(state: State) -> None:
            facts = host.facts(state)
            record(
                known, facts.started_at, facts.route, facts.consumer, facts.credential, facts.status,
                facts.latency_total_ms, facts.latency_upstream_ms, facts.bytes_in, facts.bytes_out,
                host.forwarded_ip(state),
            )  # fmt: skip

        return FastPath(log=log)
