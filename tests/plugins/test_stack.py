"""What `make run` shows, as processes the way `agora run` starts them: a seeded registry (SQLite in a
temporary directory), the example upstreams, and `agora gateway` serving the registry's snapshot with
the default plugins of each access level (key-auth, access-control, rate-limiting, usage-metering).

The registry emits `rate-limiting` for every API and the gateway refuses a snapshot naming a plugin
it does not have: without plugins/rate_limiting this test cannot run, so it is skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from gateway_harness import REPO, free_port, stop, wait_for

from agora.settings import load_settings
from examples.seed import seed
from registry import migrate
from registry.db import make_engine, make_sessionmaker
from registry.services import applications, plans
from registry.unit_of_work import change
from tests.examples.test_upstream_serve import _free_port_offset
from tests.plugins.helpers import count_records, records

pytest.importorskip("plugins.rate_limiting.handler", reason="the registry emits rate-limiting for every API")

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Stack:
    gateway: str
    database_url: str
    demo_key: str
    demo_app: str
    outsider_key: str
    benefits_key: str  # the family benefits fund's (examples.benefits_seed)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """The gateway answers /healthz at once; /readyz turns 200 when it has compiled the snapshot."""
    wait_for(url + "/healthz", process)
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = httpx.get(url + "/readyz", timeout=2)
        if last.status_code == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"gateway not ready: {last.text if last is not None else 'no answer'}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    where = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{where / 'agora.db'}"
    env = {
        **os.environ,
        "AGORA_DATABASE_URL": database_url,
        "AGORA_STATE_DIR": str(where / "state"),
        "PYTHONPATH": str(REPO),
    }
    for name in ("AGORA_HMAC_KEY", "AGORA_SESSION_SECRET", "AGORA_USAGE_INGEST_URL"):
        env.pop(name, None)  # as on a laptop: the secrets file of the state directory
    offset = _free_port_offset()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:  # `agora run`: migrate, then seed with the same settings the processes will read
        migrate.upgrade(database_url)
        sessions = make_sessionmaker(make_engine(database_url))
        with change(sessions) as session:
            created = seed(session, load_settings(), port_offset=offset)
            outsider = applications.create_application(
                session,
                developer=applications.create_developer(session, email="outsider@example.org", actor="test"),
                name="outsider-app",
                plan=plans.get_plan(session, "free"),
                actor="test",
            )
            _, outsider_key = applications.issue_key(
                session, outsider, hmac_key=load_settings().hmac_key, actor="t"
            )
        sessions.kw["bind"].dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    upstreams = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "examples.upstreams.serve",
            "--port-offset",
            str(offset),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    port = free_port()
    gateway = subprocess.Popen(
        [sys.executable, "-m", "agora", "gateway", "--port", str(port)], cwd=where, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"http://127.0.0.1:{9102 + offset}/health", upstreams)
        _wait_ready(url, gateway)
        yield Stack(
            url,
            database_url,
            created["demo_api_key"],
            created["demo_application_id"],
            outsider_key,
            created["benefits_api_key"],
        )
    finally:
        stop(gateway)
        stop(upstreams)


def call(stack: Stack, path: str, key: str | None = None) -> httpx.Response:
    return httpx.get(stack.gateway + path, headers={"apikey": key} if key else {}, timeout=10)


def test_the_platform_as_make_run_serves_it(stack: Stack) -> None:
    before = count_records(stack.database_url)
    calls = 0

    open_api = call(stack, "/cadastre/addresses/v1/municipalities")
    assert open_api.status_code == 200
    calls += 1

    no_key = call(stack, "/commerce/companies/v1/companies")
    assert no_key.status_code == 401
    assert no_key.headers["content-type"] == "application/problem+json"
    assert no_key.headers["www-authenticate"].startswith("Key realm=")
    assert no_key.json()["detail"] == "No API key found in request"
    demo = call(stack, "/commerce/companies/v1/companies", stack.demo_key)
    assert demo.status_code == 200, demo.text
    calls += 2

    refused = call(stack, "/meteo/warnings/v1/regions", stack.outsider_key)
    assert refused.status_code == 403
    assert refused.json()["request_access"].endswith("/meteo/warnings/")
    granted = call(stack, "/meteo/warnings/v1/regions", stack.demo_key)
    assert granted.status_code == 200, granted.text
    calls += 2

    deadline = time.monotonic() + 5
    while count_records(stack.database_url) < before + calls and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = records(stack.database_url)[before:]
    assert [(r.api, r.status) for r in rows] == [
        ("addresses", 200), ("companies", 401), ("companies", 200), ("warnings", 403), ("warnings", 200),
    ]  # fmt: skip
    assert rows[2].application_id == stack.demo_app and rows[4].application_id == stack.demo_app
    assert rows[0].application_id is None and rows[0].client_ip == "127.0.0.0/24"


def test_the_benefits_register_answers_the_funds_key_only(stack: Stack) -> None:
    """The README's "See who read your data" call: personal data, for the application granted it."""
    path = "/benefits/entitlements/v1/beneficiaries/285057505612338/entitlements"
    assert call(stack, path).status_code == 401
    refused = call(stack, path, stack.demo_key)
    assert refused.status_code == 403 and refused.json()["request_access"].endswith("/benefits/entitlements/")
    granted = call(stack, path, stack.benefits_key)
    assert granted.status_code == 200, granted.text
    assert granted.json()["beneficiary"]["given_names"] == "Marie Claire"
    unknown = call(
        stack, "/benefits/entitlements/v1/beneficiaries/185057512345673/entitlements", stack.benefits_key
    )
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
