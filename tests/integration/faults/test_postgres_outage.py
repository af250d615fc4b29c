"""PostgreSQL stopped under load: both gateways keep serving from their snapshot (and say `degraded`
on /readyz), the admin API and the portal answer 503 problem documents, and all of them recover by
themselves when the database returns: the admin answers, the portal answers, a new publication reaches
the gateways, and the usage metered during the outage is written afterwards (kept and retried).

The admin API and the gateways are processes; the portal is its application in this process (its
server start would build the whole static site first), with its own connection pool all the same."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from registry.db import make_engine, make_sessionmaker
from registry.services import accounts
from registry.unit_of_work import change
from tests.devportal.helpers import PASSWORD, sign_in
from tests.integration.faults.load import load
from tests.integration.faults.postgres_server import PrivatePostgres
from tests.integration.topology.stack import HMAC_KEY, Platform, probe_spec, wait_until

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
NO_LIMITS = {"rate-limiting": {"limit_by": "ip", "limits": {"day": 1_000_000}}}


@pytest.fixture
def portal(platform: Platform, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=platform.database_url,
        redis_url=None,
        state_dir=tmp_path / "state",
        hmac_key=HMAC_KEY,
        session_secret="portal-outage-secret",
        gateway_url="http://127.0.0.1:8000",
        portal_url="http://127.0.0.1:8002",
        allowed_upstream_hosts=(),
    )
    sessions = make_sessionmaker(make_engine(platform.database_url))
    with change(sessions) as session:
        developer = accounts.sign_up(session, email="outage@example.org", password=PASSWORD).developer
        accounts.mark_verified(session, developer.id, developer.email)
    app = create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(tmp_path))
    with TestClient(app, base_url="http://127.0.0.1:8002") as client:
        sign_in(client, "outage@example.org")
        yield client
    sessions.kw["bind"].dispose()


def _problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status


def test_gateways_serve_through_a_database_outage_and_everything_recovers(
    platform: Platform, private_postgres: PrivatePostgres, portal: TestClient
) -> None:
    platform.publish(probe_spec("Steady", "1.0.0", ["/items", "/load"], NO_LIMITS), api="steady")
    a, b = (g.url for g in platform.gateways.values())
    wait_until(
        lambda: all(httpx.get(g + "/topo/steady/v1/items", timeout=2).status_code == 200 for g in (a, b)),
        10,
        what="steady published",
    )
    assert portal.get("/account/api/usage").status_code == 200
    targets: dict[str, tuple[str, dict[str, str]]] = {
        name: (f"{url}/topo/steady/v1/load", {}) for name, url in (("a", a), ("b", b))
    }

    with load(targets, threads_per_target=2) as seen:
        wait_until(lambda: all(len(seen.of(t)) >= 3 for t in targets), 20, what="load before the outage")
        down = time.monotonic()
        private_postgres.stop("fast")
        wait_until(
            lambda: all(len(seen.of(t, down + 1)) >= 5 for t in targets), 30, what="load in the outage"
        )

        _problem(platform.admin("GET", "/admin/agencies"), 503)
        _problem(httpx.get(platform.admin_url + "/admin/status", timeout=10), 503)
        _problem(portal.get("/account/api/usage"), 503)  # type: ignore[arg-type]
        for url in (a, b):
            ready = httpx.get(url + "/readyz", timeout=5)
            assert ready.status_code == 200 and "degraded" in ready.text, ready.text

        up = time.monotonic()
        private_postgres.start()
        admin_back = wait_until(
            lambda: platform.admin("GET", "/admin/agencies").status_code == 200, 30, what="admin back"
        )
        assert portal.get("/account/api/usage").status_code == 200
        published = time.monotonic()
        platform.publish(probe_spec("Steady", "1.1.0", ["/items", "/load", "/new"], NO_LIMITS), api="steady")
        reached = wait_until(
            lambda: all(httpx.get(g + "/topo/steady/v1/new", timeout=2).status_code == 200 for g in (a, b)),
            10,
            what="publication after the outage",
        )
        end = time.monotonic()
    print(
        f"\npostgres outage: {up - down:.1f} s down; admin back {admin_back:.2f} s after the restart; "
        f"a publication then reached both gateways in {time.monotonic() - published:.2f} s"
    )
    assert reached < 5
    for name in targets:
        statuses = seen.statuses(name, 0, end)
        assert set(statuses) == {200}, statuses  # not one failure, before, during or after
        assert seen.statuses(name, down + 1, up)[200] >= 5
    for url in (a, b):
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200
    # Metered while the database was down: kept, retried, written once it came back.
    calls = len(seen.of("a")) + len(seen.of("b"))
    wait_until(lambda: platform.usage_count("steady", "get_load") >= calls, 20, interval=0.3, what="metering")
    time.sleep(1.2)
    assert platform.usage_count("steady", "get_load") == calls
    logs = platform.logs()
    assert "snapshot source unavailable, serving the last snapshot" in logs
    assert "usage store write failed" in logs
