"""Hot reload: polls the snapshot source every `interval` seconds (in a worker thread, so the event
loop never waits on the database or the disk), compiles a new snapshot off the loop and swaps it
in. A source that fails leaves the last snapshot serving and is reported on `/readyz`; a snapshot
that does not compile is refused and reported the same way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from agora.errors import AgoraError
from gateway.config.compiled import ConfigHolder, compile_snapshot
from gateway.config.sources import Polled, SnapshotSource, read_cache, write_cache
from gateway.pipeline.plugin_host import PluginRegistry

__all__ = ["Reloader"]

log = logging.getLogger("agora.gateway.reload")


class Reloader:
    def __init__(
        self,
        holder: ConfigHolder,
        source: SnapshotSource,
        registry: PluginRegistry,
        *,
        interval: float = 0.5,
        cache: Path | None = None,
    ) -> None:
        self.holder = holder
        self.source = source
        self.registry = registry
        self.interval = interval
        self.cache = cache
        # A refused snapshot stays reported until a good one replaces it; an unchanged poll only means
        # the source is readable again, which clears availability errors, not the refusal.
        self.refused: str | None = None

    async def start(self) -> None:
        """First load; falls back to the cached snapshot when the source cannot be read."""
        await self.check()
        if self.holder.current is None and self.cache is not None:
            cached = await asyncio.to_thread(read_cache, self.cache)
            if cached is not None:
                await self._apply(cached, from_cache=True)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        try:
            polled = await asyncio.to_thread(self.source.poll)
        except AgoraError as exc:
            if self.holder.source_error is None:
                log.warning("snapshot source unavailable, serving the last snapshot: %s", exc.detail)
            self.holder.report(exc.detail)
            return
        if polled is None:
            self.holder.report(self.refused)
            return
        await self._apply(polled, from_cache=False)

    async def _apply(self, polled: Polled, *, from_cache: bool) -> None:
        document, revision = polled
        try:
            config = await asyncio.to_thread(compile_snapshot, document, self.registry, revision)
        except AgoraError as exc:
            log.error("refused snapshot %s: %s", document.get("id"), exc.detail)
            self.refused = f"refused snapshot {document.get('id')}: {exc.detail}"
            self.holder.report(self.refused)
            return
        self.refused = None
        self.holder.swap(config)
        if from_cache:
            self.holder.report(self.holder.source_error or "serving the cached snapshot")
            return
        self.holder.report(None)
        log.info("serving snapshot %s (revision %s)", config.snapshot.id, revision)
        if self.cache is not None:
            try:
                await asyncio.to_thread(write_cache, self.cache, document, revision)
            except OSError as exc:
                log.warning("cannot cache the snapshot at %s: %s", self.cache, exc)
