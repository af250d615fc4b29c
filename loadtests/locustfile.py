"""The platform under a realistic mix of callers (`make loadtest`; locust, headless).

    OpenDataUser     anonymous callers of the open API (cadastre/addresses), from many addresses
    DeveloperUser    developers' applications, each with its own key: the key API (commerce/companies),
                     now and then a filing (POST), and the restricted API (meteo/warnings), which
                     answers 403 to the half of them without an access grant
    SlowUser         a developer calling the slow endpoint (companies /slow, 100-1500 ms)
    InvalidKeyUser   no key, malformed keys, unknown keys, a real prefix with a wrong secret: 401
    OverLimitUser    applications on a tiny plan, called faster than it allows: 429 with Retry-After

Every answer is judged (`catch_response`): the statuses a caller of its kind should get are
successes, anything else (a 5xx, a 200 to a bad key, a 429 to a developer under its limits, a
connection error) is a failure. The run fails when failures exceed 0.1% of requests, or when the
over-limit callers were never refused. Keys come from `AGORA_LOADTEST_KEYS` (default
var/loadtest/keys.json, written by loadtests/seed.py).

Each user is one client with an address of its own, sent as `X-Forwarded-For` as a load balancer
would: per-address rules (open APIs' limits, key-auth's brute-force guard, which refuses every key
from an address that sent too many invalid ones) then apply to that client alone. The gateway
believes the header only from a trusted proxy (`AGORA_GATEWAY_TRUSTED_PROXIES=127.0.0.0/8`, which
`make loadtest` sets when it starts the platform); a platform started without it sees every user at
one address, and the invalid-key users get everyone blocked.
"""

from __future__ import annotations

import json
import os
import random
import string
from functools import cache
from typing import Any

from locust import FastHttpUser, between, constant_pacing, events, task
from locust.env import Environment

KEYS_ENV = "AGORA_LOADTEST_KEYS"
MAX_FAILURE_RATIO = 0.001
TINY_MINUTE = 30  # the over-limit callers' plan: loadtests/seed.py TINY_LIMITS

OPEN = "/cadastre/addresses/v1"
KEYED = "/commerce/companies/v1"
RESTRICTED = "/meteo/warnings/v1"
ADDRESS_IDS = ("0101-01-001", "0101-01-003", "0214-02-002", "0332-03-001", "0214-01-005")
MUNICIPALITIES = ("0101", "0214", "0332")
SEARCHES = ("harbour", "mill lane", "linden", "station", "church street 3")
COMPANY_IDS = tuple(f"RC1000{n:02d}" for n in range(1, 11))
OPEN_FOR_FILINGS = ("RC100001", "RC100002", "RC100003", "RC100004", "RC100005", "RC100007", "RC100008")
REGIONS = ("capital", "north-coast", "lake-district", "central-plains", "eastern-hills", "south-archipelago")

over_limit_refusals = 0
over_limit_calls = 0


@cache
def keys() -> dict[str, Any]:
    path = os.environ.get(KEYS_ENV, os.path.join("var", "loadtest", "keys.json"))
    with open(path) as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


_next_developer = 0
_next_client = 0
# Documentation ranges (RFC 5737): 762 addresses, one per user, never shared by two users.
_RANGES = ("198.51.100", "203.0.113", "192.0.2")


def _address() -> str:
    global _next_client
    block, host = divmod(_next_client, 254)
    _next_client += 1
    return f"{_RANGES[block % len(_RANGES)]}.{host + 1}"


def _developer() -> dict[str, Any]:
    """Each new user takes the next developer's key: one application per user while they last."""
    global _next_developer
    pool = keys()["developers"]
    developer: dict[str, Any] = pool[_next_developer % len(pool)]
    _next_developer += 1
    return developer


def _judge(response: Any, expected: tuple[int, ...], what: str) -> None:
    status = response.status_code
    if status in expected:
        if status == 429 and not response.headers.get("Retry-After"):
            response.failure(f"{what}: 429 without Retry-After")
        elif status in (401, 403) and "problem+json" not in (response.headers.get("Content-Type") or ""):
            response.failure(f"{what}: {status} that is not a problem document")
        else:
            response.success()
    else:
        response.failure(f"{what}: {status}, expected {'/'.join(map(str, expected))}")


class OpenDataUser(FastHttpUser):
    weight = 4
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-For": _address()}

    def _get(self, path: str, name: str) -> None:
        with self.client.get(OPEN + path, name=name, headers=self.headers, catch_response=True) as response:
            _judge(response, (200, 429), name)

    @task(4)
    def search(self) -> None:
        self._get(f"/addresses?q={random.choice(SEARCHES).replace(' ', '+')}", "open: search addresses")

    @task(3)
    def address(self) -> None:
        self._get(f"/addresses/{random.choice(ADDRESS_IDS)}", "open: address by id")

    @task(1)
    def streets(self) -> None:
        self._get(f"/municipalities/{random.choice(MUNICIPALITIES)}/streets", "open: streets")


class DeveloperUser(FastHttpUser):
    weight = 8
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        developer = _developer()
        self.headers = {"apikey": developer["key"], "X-Forwarded-For": _address()}
        self.granted: bool = developer["granted"]

    def _call(self, method: str, path: str, name: str, expected: tuple[int, ...], **kwargs: Any) -> None:
        with self.client.request(
            method, path, name=name, headers=self.headers, catch_response=True, **kwargs
        ) as response:
            _judge(response, expected, name)

    @task(5)
    def company(self) -> None:
        self._call("GET", f"{KEYED}/companies/{random.choice(COMPANY_IDS)}", "key: company by id", (200,))

    @task(3)
    def search(self) -> None:
        self._call("GET", f"{KEYED}/companies?name=north", "key: search companies", (200,))

    @task(2)
    def officers(self) -> None:
        path = f"{KEYED}/companies/{random.choice(COMPANY_IDS)}/officers"
        self._call("GET", path, "key: officers", (200,))

    @task(1)
    def filing(self) -> None:
        body = {"type": "annual-accounts", "submitted_by": "Load Test", "period_end": "2025-12-31"}
        path = f"{KEYED}/companies/{random.choice(OPEN_FOR_FILINGS)}/filings"
        self._call("POST", path, "key: submit filing", (201,), json=body)

    @task(3)
    def warnings(self) -> None:
        expected = (200,) if self.granted else (403,)
        path = f"{RESTRICTED}/regions/{random.choice(REGIONS)}/warnings"
        self._call(
            "GET", path, f"restricted: warnings ({'granted' if self.granted else 'no grant'})", expected
        )


class SlowUser(FastHttpUser):
    weight = 1
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.headers = {"apikey": _developer()["key"], "X-Forwarded-For": _address()}

    @task
    def slow(self) -> None:
        delay = random.randint(100, 1500)
        with self.client.get(
            f"{KEYED}/slow?delay_ms={delay}", name="key: slow endpoint", headers=self.headers,
            catch_response=True,
        ) as response:  # fmt: skip
            _judge(response, (200,), "key: slow endpoint")


def _invalid_key() -> str | None:
    kind = random.randrange(4)
    if kind == 0:
        return None  # no key at all
    if kind == 1:
        return "".join(random.choices(string.ascii_letters, k=24))  # not even the key's shape
    if kind == 2:
        return f"agora_{random.getrandbits(32):08x}_{'x' * 43}"  # unknown prefix
    real = str(random.choice(keys()["developers"])["key"])
    return real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")  # a real prefix, wrong secret


class InvalidKeyUser(FastHttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.address = _address()

    @task
    def call(self) -> None:
        key = _invalid_key()
        headers = {"X-Forwarded-For": self.address, **({"apikey": key} if key else {})}
        with self.client.get(
            f"{KEYED}/companies/{random.choice(COMPANY_IDS)}", name="key: invalid key", headers=headers,
            catch_response=True,
        ) as response:  # fmt: skip
            # 429 once this address has sent more invalid keys than key-auth's guard allows
            _judge(response, (401, 429), "key: invalid key")


class OverLimitUser(FastHttpUser):
    weight = 1
    wait_time = constant_pacing(0.2)  # 5 calls a second against a plan of 2 a second, 30 a minute

    def on_start(self) -> None:
        pool = keys()["over_limit"]
        self.headers = {"apikey": random.choice(pool), "X-Forwarded-For": _address()}

    @task
    def call(self) -> None:
        global over_limit_calls, over_limit_refusals
        with self.client.get(
            f"{KEYED}/companies/RC100001", name="key: over its limit", headers=self.headers,
            catch_response=True,
        ) as response:  # fmt: skip
            _judge(response, (200, 429), "key: over its limit")
            over_limit_calls += 1
            over_limit_refusals += response.status_code == 429


def _verdict(environment: Environment, **_: Any) -> None:
    total = environment.stats.total
    ratio = total.num_failures / total.num_requests if total.num_requests else 1.0
    problems = []
    if total.num_requests == 0:
        problems.append("no request was made")
    if ratio > MAX_FAILURE_RATIO:
        problems.append(f"unexpected answers: {total.num_failures} of {total.num_requests} ({ratio:.3%})")
    if over_limit_calls > 2 * TINY_MINUTE and over_limit_refusals == 0:
        problems.append(f"{over_limit_calls} calls over a tiny plan and none refused with 429")
    print(
        f"\nload test: {total.num_requests} requests, {total.num_failures} unexpected ({ratio:.3%}, "
        f"limit {MAX_FAILURE_RATIO:.1%}); over-limit callers refused {over_limit_refusals} of "
        f"{over_limit_calls} calls"
    )
    for problem in problems:
        print(f"FAILED: {problem}")
    environment.process_exit_code = 1 if problems else 0


events.quitting.add_listener(_verdict)  # type: ignore[no-untyped-call]  # locust is untyped here
