"""The example `companies` API end to end, for the jwt and request-validator tests: its real upstream
(`examples.upstreams.serve`) on a free loopback port, and snapshots compiled by the real registry from
a variant of its spec (so `x-agora-plugins` goes spec -> registry -> snapshot -> gateway)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from examples.catalog import by_api_slug
from registry.compile.snapshot import compile_snapshot
from registry.db import make_engine, make_sessionmaker
from registry.models import AccessLevel
from registry.services import agencies, apis
from registry.unit_of_work import change
from tests.gateway.integration.gateway_harness import REPO, free_port, stop, wait_for
from tests.registry import factories

__all__ = ["companies_spec", "compile_registry", "serve_companies"]

# The plugins under test; the access level's defaults (per-IP rate limiting, metering) are other
# plugins' business and are left out of these gateways so that they cannot interfere.
UNDER_TEST = frozenset({"jwt", "request-validator"})


def companies_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(by_api_slug("companies").spec_text())
    return spec


@contextmanager
def serve_companies() -> Iterator[str]:
    """The real companies upstream; its URL."""
    example = by_api_slug("companies")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.upstreams.serve", "--only", "companies",
         "--port-offset", str(port - example.port), "--log-level", "warning"],
        cwd=REPO,
    )  # fmt: skip
    url = example.upstream_url(port_offset=port - example.port)
    try:
        wait_for(url + "/health", process)
        yield url
    finally:
        stop(process)


def compile_registry(
    template: Path,
    where: Path,
    apis_to_publish: dict[str, tuple[dict[str, Any], str]],
    apps: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Publishes each `api slug -> (spec, upstream)` under the agency `commerce` (open access) in a
    migrated SQLite registry, registers applications named `apps`, and compiles the snapshot."""
    path = where / "registry.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    try:
        with change(sessions) as session:
            agencies.create_agency(session, slug="commerce", name="Commerce", actor="test")
            for slug, (spec, upstream) in apis_to_publish.items():
                apis.publish(
                    session, agency_slug="commerce", spec=json.dumps(spec), upstream=upstream,
                    api_slug=slug, access_level=AccessLevel.OPEN, actor="test",
                    allowed_upstream_hosts=("127.0.0.1",),  # the test upstream listens on loopback
                )  # fmt: skip
            if apps:
                plan = factories.plan(session)
                for name in apps:
                    factories.application(session, plan, email=f"{name}@example.org", name=name)
        with sessions() as session:
            document = compile_snapshot(session)
    finally:
        engine.dispose()
    for service in document["services"]:
        service["plugins"] = [p for p in service["plugins"] if p["name"] in UNDER_TEST]
    return document
