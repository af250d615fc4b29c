"""Snapshot sources and the reloader: file, database (SQLite through registry.snapshots), cache."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from agora.errors import Unavailable
from gateway.config.compiled import ConfigHolder
from gateway.config.reloader import Reloader
from gateway.config.sources import DatabaseSource, FileSource, read_cache, write_cache
from gateway.pipeline.plugin_host import PluginRegistry
from registry.db import make_engine, make_sessionmaker
from registry.models import GatewayConfig


def document(snapshot_id: str, prefix: str = "/a/b/v1") -> dict[str, Any]:
    routes = [{"method": "GET", "path": "/x"}]
    return {
        "format": 1,
        "id": snapshot_id,
        "services": [{"name": "a.b.v1", "prefix": prefix, "routes": routes}],
    }


def test_file_source_reports_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(document("one")))
    source = FileSource(path)
    first = source.poll()
    assert first is not None and first[0]["id"] == "one"
    assert source.poll() is None
    path.write_text(json.dumps(document("two!")))
    second = source.poll()
    assert second is not None and second[0]["id"] == "two!"
    path.unlink()
    with pytest.raises(Unavailable):
        source.poll()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "registry.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _publish(url: str, doc: dict[str, Any]) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        session.add(GatewayConfig(id=doc["id"], document=doc))
    engine.dispose()


def test_database_source_polls_the_newest_revision(sqlite_url: str) -> None:
    source = DatabaseSource(sqlite_url)
    assert source.poll() is None  # nothing published yet
    _publish(sqlite_url, document("sha256:1"))
    polled = source.poll()
    assert polled is not None and polled[0]["id"] == "sha256:1" and polled[1] == 1
    assert source.poll() is None
    _publish(sqlite_url, document("sha256:2"))
    polled = source.poll()
    assert polled is not None and polled[0]["id"] == "sha256:2" and polled[1] == 2


def test_database_source_unreachable_is_unavailable(tmp_path: Path) -> None:
    source = DatabaseSource(f"sqlite:///{tmp_path}/missing-dir/../nope/x.db?mode=ro")
    with pytest.raises(Unavailable):
        source.poll()


def test_reloader_swaps_caches_and_falls_back_to_the_cache(sqlite_url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    _publish(sqlite_url, document("sha256:1"))

    async def scenario() -> None:
        holder = ConfigHolder()
        reloader = Reloader(holder, DatabaseSource(sqlite_url), PluginRegistry(), cache=cache)
        await reloader.start()
        assert holder.current is not None and holder.current.snapshot.revision == 1
        assert read_cache(cache) is not None
        _publish(sqlite_url, document("sha256:2", "/a/b/v2"))
        await reloader.check()
        assert holder.current.snapshot.id == "sha256:2"
        assert holder.current.table.lookup("GET", "/a/b/v2/x") is not None

        # A restart while the database is down serves the cached snapshot and says so.
        down = ConfigHolder()
        broken = DatabaseSource("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
        await Reloader(down, broken, PluginRegistry(), cache=cache).start()
        assert down.current is not None and down.current.snapshot.id == "sha256:2"
        assert down.source_error is not None and "database" in down.source_error

    asyncio.run(scenario())


def test_cache_write_is_atomic_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.json"
    write_cache(path, document("x"), 7)
    assert read_cache(path) == (document("x"), 7)
    assert [p.name for p in path.parent.iterdir()] == ["cache.json"]
    path.write_text("{not json")
    assert read_cache(path) is None
