"""The bench's platform, built with the registry as production builds it: a temporary SQLite registry
with one restricted API (`bench/hello`, `GET /hello`), a plan whose limits are far above what a bench
can send (so every call is counted and none refused), an application with an approved grant and a key.

Its compiled snapshot is what the gateway serves for the plugin targets: key-auth, access-control,
rate-limiting (limit_by consumer; the policy follows AGORA_REDIS_URL) and usage-metering, exactly the
registry's defaults for a restricted API. The bare target serves the same snapshot with every plugin
removed. The same database receives the usage records (metering's default `database` backend).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_PATH", "BENCH_PREFIX", "BENCH_SUBJECT", "BenchPlatform", "build_platform", "with_personal_data",
    "without_plugins",
]  # fmt: skip

BENCH_PREFIX = "/bench/hello/v1"
BENCH_PATH = BENCH_PREFIX + "/hello"
ACTOR = "loadtests:bench"
# Far above what one run can send, in every period a plan usually limits: the counters all work, none refuses.
LIMITS: dict[str, int | None] = {
    "second": 1_000_000,
    "minute": 10_000_000,
    "hour": None,
    "day": 1_000_000_000,
    "month": None,
}
SPEC = """\
openapi: 3.1.0
info:
  title: Bench hello
  version: 1.0.0
  description: A fixed answer, for measuring the gateway's cost per request.
  contact:
    name: Agora benchmarks
    email: bench@agora.example
tags:
  - name: bench
    description: Benchmark operations.
security:
  - apikey: []
paths:
  /hello:
    get:
      operationId: getHello
      summary: A fixed greeting
      tags: [bench]
      responses:
        '200':
          description: The greeting.
          content:
            application/json:
              schema:
                type: object
                properties:
                  hello:
                    type: string
components:
  securitySchemes:
    apikey:
      type: apiKey
      in: header
      name: apikey
"""


@dataclass(frozen=True, slots=True)
class BenchPlatform:
    database_url: str
    hmac_hex: str
    api_key: str
    snapshot: dict[str, Any]  # the registry's compiled snapshot, plugins included


def build_platform(directory: Path, upstream: str) -> BenchPlatform:
    """Migrates a registry in `directory`, seeds it and compiles its snapshot (a few seconds)."""
    from registry import migrate
    from registry.db import make_engine, make_sessionmaker
    from registry.models import AccessLevel, GrantState
    from registry.services import agencies, apis, applications, grants, plans
    from registry.snapshots import load
    from registry.unit_of_work import change, read

    database_url = f"sqlite:///{directory / 'registry.db'}"
    hmac_hex = secrets.token_hex(32)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        with change(sessions) as session:
            agency = agencies.create_agency(
                session, slug="bench", name="Benchmarks", contact_email="bench@agora.example",
                website="https://agora.example", actor=ACTOR,
            )  # fmt: skip
            plan = plans.create_plan(session, slug="bench", name="Bench", limits=LIMITS, actor=ACTOR)
            published = apis.publish(
                session, agency_slug=agency.slug, spec=SPEC, filename="hello.yaml", upstream=upstream,
                api_slug="hello", access_level=AccessLevel.RESTRICTED, actor=ACTOR,
                allowed_upstream_hosts=("127.0.0.1",),  # the benchmark's upstream listens on loopback
            )  # fmt: skip
            developer = applications.create_developer(
                session, email="bench@agora.example", verified=True, actor=ACTOR
            )
            app = applications.create_application(
                session, developer=developer, name="bench-app", plan=plan, actor=ACTOR
            )
            _, api_key = applications.issue_key(session, app, hmac_key=bytes.fromhex(hmac_hex), actor=ACTOR)
            grant = grants.request_access(
                session, application=app, api=published.version.api, plan=plan, actor=ACTOR
            )
            grants.decide(session, grant, GrantState.APPROVED, reason="bench", actor=ACTOR)
        with read(sessions) as session:
            document = load(session)
    finally:
        engine.dispose()
    assert document is not None
    return BenchPlatform(database_url, hmac_hex, api_key, document)


def without_plugins(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same services and routes with no plugin at all: the gateway's own cost."""
    bare = copy.deepcopy(snapshot)
    for service in bare["services"]:
        service["plugins"] = []
        for route in service["routes"]:
            route["plugins"] = []
    return bare


BENCH_SUBJECT = (b"x-subject", b"1 85 05 75 123 456 78")  # the header a personal-data-log bench sends


def with_personal_data(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same platform as if `GET /hello` declared personal data with its subject in `X-Subject`: the
    registry's personal-data-log entry on every route, as registry/compile/snapshot.py compiles it."""
    logged = copy.deepcopy(snapshot)
    entry = {
        "name": "personal-data-log",
        "config": {
            "subject": {"in": "header", "name": BENCH_SUBJECT[0].decode()},
            "categories": ["identity", "entitlements"],
            "legal_bases": {"public-task": 1825},
        },
    }
    for service in logged["services"]:
        for route in service["routes"]:
            route["plugins"] = [*route.get("plugins", []), entry]
    return logged


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path
