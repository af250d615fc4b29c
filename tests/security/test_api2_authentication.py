"""API2:2023 Broken Authentication.

- Key brute force is slowed and logged: past key-auth's `failure_limit` invalid keys from one address, its
  keys (the right one too) are refused with 429 until the window ends; the log names the address and the
  key's public prefix, never a key.
- Key and token comparisons take constant time: an unknown prefix, a known prefix with a wrong secret and
  a secret wrong only in its last character cost the same HMAC and `hmac.compare_digest`.
- No secret ever appears in the database, the logs, the metering or an error message: the platform runs
  as processes (admin, gateway), is called with right and wrong keys and tokens, and everything it wrote
  is searched for them.
"""

from __future__ import annotations

import ast
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_harness import free_port, stop, wait_for, write_snapshot
from sqlalchemy import create_engine, inspect, text

from plugins.key_auth.credentials import check_key
from registry.secrets import new_secret
from registry.services import accounts
from registry.unit_of_work import change
from tests.integration.topology.stack import REPO, Platform, probe_spec, start_platform, wait_until
from tests.plugins.helpers import HMAC_KEY, consumer, credential, platform_env, route, service, snapshot

LIMIT, WINDOW = 5, 3600


@pytest.fixture(scope="module")
def guarded(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A gateway process (its log kept) serving one key API with a brute-force guard of LIMIT per WINDOW;
    returns (URL, the valid key, the log)."""
    where = tmp_path_factory.mktemp("guarded")
    key, entry = credential("cred-good")
    key_auth = {
        "name": "key-auth",
        "config": {"hide_credentials": True, "failure_limit": LIMIT, "failure_window": WINDOW},
    }
    document = snapshot(
        [
            service(
                "gov.keyed.v1", upstream + "/echo", [route("GET", "/items")], access="key", plugins=[key_auth]
            )
        ]
    )
    document["consumers"] = [consumer("app-good", "good", [entry])]
    write_snapshot(where / "snapshot.json", document)
    port = free_port()
    env = {
        **os.environ,
        **platform_env(where / "state", AGORA_GATEWAY_TRUSTED_PROXIES="127.0.0.1/32", AGORA_REDIS_URL=""),
        "AGORA_GATEWAY_HEALTH_CHECKS": "off",
    }
    log = where / "gateway.log"
    with log.open("wb") as out:
        args = ["-m", "gateway", "--port", str(port), "--snapshot", str(where / "snapshot.json")]
        process = subprocess.Popen([sys.executable, *args], cwd=where, env=env, stdout=out, stderr=out)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}", key, log
    finally:
        stop(process)


def _call(url: str, ip: str, key: str) -> httpx.Response:
    return httpx.get(url + "/gov/keyed/v1/items", headers={"apikey": key, "X-Forwarded-For": ip}, timeout=10)


@pytest.mark.integration
def test_key_brute_force_is_refused_then_logged(guarded: tuple[str, str, Path]) -> None:
    url, good, log = guarded
    if WINDOW - time.time() % WINDOW < 30:  # the attempts must not straddle the window's end
        time.sleep(WINDOW - time.time() % WINDOW + 1)
    guesses = [new_secret(HMAC_KEY).value for _ in range(LIMIT + 3)]
    statuses = [_call(url, "203.0.113.7", guess).status_code for guess in guesses]
    assert statuses == [401] * LIMIT + [429] * 3
    refused = _call(url, "203.0.113.7", good)
    assert refused.status_code == 429, "the right key is refused too: a hit must look like a miss"
    assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
    assert refused.headers["content-type"] == "application/problem+json"
    assert _call(url, "198.51.100.9", good).status_code == 200, "other addresses are not affected"
    assert _call(url, "198.51.100.9", "agora_00000000_nope").status_code == 401

    time.sleep(0.3)
    logged = log.read_text()
    assert "203.0.113.7" in logged and "invalid API keys" in logged
    assert guesses[LIMIT].rsplit("_", 1)[0] in logged or guesses[LIMIT][:14] in logged  # the public prefix
    for secret in [*guesses, good]:
        assert secret not in logged


def _median_ns(func: Any, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        func()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples)


def test_key_comparison_takes_the_same_time_hit_or_miss() -> None:
    good, entry = credential("cred-timing")
    found = ({"id": "app"}, entry)

    def find(prefix: str) -> Any:
        return found if prefix == entry["prefix"] else None

    cases = {
        "unknown prefix": "agora_ffffffff_" + good.split("_", 2)[2],
        "wrong secret": good[:15] + "A" * (len(good) - 15),
        "last character wrong": good[:-1] + ("A" if good[-1] != "A" else "B"),
    }
    medians: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(15):  # interleaved batches: machine noise hits every case alike
        for name, key in cases.items():
            medians[name].append(
                _median_ns(lambda key=key: check_key(key, hmac_key=HMAC_KEY, find=find), 200)
            )
    typical = {name: statistics.median(values) for name, values in medians.items()}
    print(f"\ncheck_key medians (ns): {typical}")
    low, high = min(typical.values()), max(typical.values())
    assert high <= low * 1.5, typical  # an early exit would be several times faster


def test_every_secret_comparison_is_constant_time() -> None:
    """The modules that compare secrets do it with hmac.compare_digest, never `==`."""
    modules = [
        "registry/secrets.py",
        "registry/services/tokens.py",
        "plugins/key_auth/credentials.py",
        "devportal/web/csrf.py",
        "registry/admin/dashboard/auth.py",
    ]
    for module in modules:
        tree = ast.parse((REPO / module).read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "compare_digest"]
        assert calls, f"{module} compares no secret with hmac.compare_digest"
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                assert not names & {"digest", "secret", "token", "expected", "sent"}, (
                    f"{module}:{node.lineno} compares a secret with =="
                )


def test_access_logs_drop_query_strings() -> None:
    """The portal's verification links carry a token in the query: uvicorn's access log must not keep it
    (the admin's log is checked end to end below)."""
    import logging

    from uvicorn.logging import AccessFormatter

    from agora.access_log import DropQueryStrings

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/account/verify?token=s3cr3t.sig", "1.1", 303), None,
    )  # fmt: skip
    assert DropQueryStrings().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert "s3cr3t" not in line and "/account/verify?[redacted]" in line


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    root = tmp_path_factory.mktemp("secrets")
    started = start_platform(
        root, database_url=f"sqlite:///{root / 'registry.db'}", redis_url="", gateways=["a"]
    )
    try:
        yield started
    finally:
        started.stop()


def _database_text(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return "\n".join(repr(row) for t in tables for row in conn.execute(text(f'SELECT * FROM "{t}"')))
    finally:
        engine.dispose()


@pytest.mark.integration
def test_no_secret_in_database_logs_metering_or_errors(platform: Platform, tmp_path: Path) -> None:
    platform.publish(probe_spec("Keyed", "1.0.0", ["/items"]), api="keyed", access="key")
    app_id, key = platform.issue_key("secret-holder@example.org")
    gateway = platform.gateways["a"].url + "/topo/keyed/v1/items"
    wait_until(
        lambda: httpx.get(gateway, headers={"apikey": key}, timeout=2).status_code == 200, 10, what="key"
    )
    wrong_key = new_secret(HMAC_KEY).value
    wrong_token = new_secret(HMAC_KEY, kind="agoradm").value
    password = "portal password never stored"
    with change(platform.sessions()) as session:
        accounts.sign_up(session, email="password-holder@example.org", password=password)

    seen: list[str] = []
    by_header = httpx.get(gateway, headers={"apikey": key}, timeout=10)
    by_query = httpx.get(gateway, params={"apikey": key, "q": "1"}, timeout=10)
    assert by_header.status_code == by_query.status_code == 200
    upstream_saw = by_header.text + by_query.text  # the echo upstream shows what it received
    assert key not in upstream_saw, "hide_credentials: the upstream never sees the key"
    for response in (
        httpx.get(gateway, headers={"apikey": wrong_key}, timeout=10),
        httpx.get(gateway, params={"apikey": wrong_key}, timeout=10),
        httpx.get(platform.admin_url + "/admin/agencies", headers={"Authorization": f"Bearer {wrong_token}"}),
        platform.admin("GET", "/admin/agencies"),
        platform.admin("GET", "/admin/config"),
        platform.admin("GET", "/admin/audit"),
        platform.admin("GET", f"/admin/agencies/topo/apis/keyed?apikey={key}"),
    ):
        seen.append(response.text + repr(response.headers))
    wait_until(lambda: platform.usage_count("keyed") >= 5, 15, what="metering")
    time.sleep(1.2)

    stored = _database_text(platform.database_url)
    assert app_id in stored  # the search does read the data
    written = {"database": stored, "logs": platform.logs(), "answers": "\n".join(seen)}
    for secret in (key, wrong_key, wrong_token, platform.admin_token, password):
        for where, content in written.items():
            assert secret not in content, f"a secret is in the {where}"
        body = secret.split("_", 2)[-1]  # the secret part alone, whatever surrounds it
        assert body not in stored
