"""One snapshot compiled for serving: typed services, the route table, the plugin chains.

Built off the event loop (it can take a moment on a large registry) and swapped in whole by the
`ConfigHolder`; a request keeps the `CompiledConfig` it started with, so a reload never changes
the rules under an in-flight request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gateway.config.model import Route, Snapshot, parse_snapshot
from gateway.pipeline.plugin_host import Chain, PluginRegistry
from gateway.pipeline.routes import RouteTable

__all__ = ["CompiledConfig", "ConfigHolder", "compile_snapshot"]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledConfig:
    snapshot: Snapshot
    table: RouteTable
    chains: dict[Route, Chain]
    by_name: dict[str, str]  # service name -> prefix, to resolve successors
    loaded_at: float = field(default_factory=time.time)


def compile_snapshot(
    doc: dict[str, Any], registry: PluginRegistry, revision: int | None = None
) -> CompiledConfig:
    """Raises `InvalidInput` when the document, or a plugin's config in it, is not valid."""
    snapshot = parse_snapshot(doc, revision)
    return CompiledConfig(
        snapshot=snapshot,
        table=RouteTable(snapshot.services),
        chains=registry.chains(snapshot.services),
        by_name={s.name: s.prefix for s in snapshot.services},
    )


class ConfigHolder:
    """The current config of a worker and what is known about its source (for `/readyz`)."""

    def __init__(self, config: CompiledConfig | None = None) -> None:
        self.current = config
        self.source_error: str | None = None
        self.source_error_since: float | None = None
        self.last_checked: float | None = None

    def swap(self, config: CompiledConfig) -> None:
        self.current = config  # one reference assignment: atomic for every reader on the loop

    def report(self, error: str | None) -> None:
        self.last_checked = time.time()
        if error is None:
            self.source_error = self.source_error_since = None
        elif self.source_error is None:
            self.source_error, self.source_error_since = error, time.time()
        else:
            self.source_error = error
