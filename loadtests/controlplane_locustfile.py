"""The control plane under load while a large spec is published (issue 14, item 9; locust, headless).

    PortalReader    developers browsing the portal: catalogue, an API's page, transparency, a badge
    AdminReader     operators' scripts listing APIs, agencies, plans and the audit trail
    Publisher       one agency publishing a large spec (AGORA_CONTROLPLANE_OPERATIONS operations,
                    default 3,000) again and again, each time a new minor version

Before the fix, the admin API and the portal did their database work on the event loop: one large
publication stalled every other request of the process for seconds. The run fails when the portal
pages' p99 is over 500 ms (`MAX_PORTAL_P99_MS`) or when any answer is unexpected. Hosts and the admin
token come from the environment `python -m loadtests.controlplane` sets (AGORA_CONTROLPLANE_ADMIN,
AGORA_CONTROLPLANE_PORTAL, AGORA_CONTROLPLANE_TOKEN).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, HttpUser, between, constant, events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # locust loads this file by its path
from loadtests.large_spec import large_spec

MAX_PORTAL_P99_MS = 500.0
PORTAL_PAGES = ("/", "/cadastre/addresses/", "/transparency/", "/status/cadastre/addresses/uptime.svg")
ADMIN_LISTS = ("/admin/apis", "/admin/agencies", "/admin/plans", "/admin/audit?limit=50")
PORTAL_PREFIX = "portal "


def _admin_host() -> str:
    return os.environ.get("AGORA_CONTROLPLANE_ADMIN", "http://127.0.0.1:8001")


def _token() -> dict[str, str]:
    return {"Authorization": f"Bearer {os.environ.get('AGORA_CONTROLPLANE_TOKEN', '')}"}


class PortalReader(FastHttpUser):
    host = os.environ.get("AGORA_CONTROLPLANE_PORTAL", "http://127.0.0.1:8002")
    wait_time = between(0.2, 0.6)

    @task
    def browse(self) -> None:
        for page in PORTAL_PAGES:
            self.client.get(page, name=PORTAL_PREFIX + page)


class AdminReader(FastHttpUser):
    host = _admin_host()
    wait_time = between(0.2, 0.6)

    @task
    def list_things(self) -> None:
        for path in ADMIN_LISTS:
            self.client.get(path, headers=_token(), name="admin " + path.split("?")[0])


class Publisher(HttpUser):
    host = _admin_host()
    wait_time = constant(1)
    fixed_count = 1  # one publication at a time, as one agency's pipeline would

    @task
    def publish(self) -> None:
        operations = int(os.environ.get("AGORA_CONTROLPLANE_OPERATIONS", "3000"))
        body = {
            "spec": large_spec(operations),
            "api": "loadtest-large",
            "upstream": "https://api.example.gov",
            "version": f"1.{int(time.time() * 1000)}.0",  # always newer than the last one
        }
        with self.client.post(
            "/admin/agencies/cadastre/apis", json=body, headers=_token(), name="admin publish large spec",
            timeout=120, catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code != 201:
                answer.failure(f"publish answered {answer.status_code}: {answer.text[:200]}")


def portal_p99(environment: Environment) -> float:
    """The worst p99 (ms) of the portal's pages."""
    entries = [e for e in environment.stats.entries.values() if e.name.startswith(PORTAL_PREFIX)]
    return max((e.get_response_time_percentile(0.99) or 0.0 for e in entries), default=0.0)


@events.quitting.add_listener
def _judge(environment: Environment, **_: Any) -> None:
    p99 = portal_p99(environment)
    failures = environment.stats.total.num_failures
    publications = sum(
        e.num_requests for e in environment.stats.entries.values() if e.name == "admin publish large spec"
    )
    print(f"portal pages p99: {p99:.0f} ms (target < {MAX_PORTAL_P99_MS:.0f}); "
          f"publications: {publications}; failures: {failures}")  # fmt: skip
    if p99 >= MAX_PORTAL_P99_MS or failures or publications == 0:
        environment.process_exit_code = 1
