"""`rate-limiting`: calls per second, minute, hour, day and month, with Kong's headers and answers.

Limits: a period field (`minute`...) or the `limits` map when set, else the plan of the caller's
application on this API: the plan of its approved grant (subscription) for the service's
`<agency>/<api>`, on key APIs as on restricted ones, else `kong.ctx.shared["agora.plan"]` (key-auth's
application plan), else the consumer's own `plan`, read with `kong.agora.get_plan`.
Without any limit the call passes uncounted. Counters are per API major (the service), per
identifier (`limit_by`), per period and window; the policy checks and counts all periods at once.

Headers (unless `hide_client_headers`): `X-RateLimit-Limit-<Period>` and
`X-RateLimit-Remaining-<Period>` for each limited period, and the IETF draft's `RateLimit-Limit`,
`RateLimit-Remaining`, `RateLimit-Reset` for the most constrained one (fewest calls left; on a tie
the longer period), as Kong sends them; and the structured fields of the current draft
(draft-ietf-httpapi-ratelimit-headers-09/10), one quota policy per limited period, named after it:
`RateLimit-Policy: "minute";q=100;w=60, "day";q=1000;w=86400` (quota, window seconds) and
`RateLimit: "minute";r=42;t=17, "day";r=958;t=30017` (remaining, seconds to the window's end, or
until a call fits again). Over a limit: `error_code` (429) problem with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple, Protocol, cast

from agora.errors import InvalidInput
from plugins import CTX_PLAN
from plugins.access_control.grants import find_grant
from plugins.fast import FastPath, Host, State

from .policies import Counter, Hit, PolicyUnavailable, select
from .policies.local import LocalPolicy
from .schema import Schema
from .windows import PERIODS, Usage, Window, window

__all__ = ["ERR_UNAVAILABLE", "PRIORITY", "VERSION", "Plugin", "Schema", "priority", "version"]

PRIORITY = 910  # Kong's rate-limiting: after authentication (key-auth 1250) and acl (950)
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_UNAVAILABLE = "Rate limiting is unavailable at the moment; try again shortly"
ERR_LIMIT = "rate-limiting: the {} limit must be a positive integer, not {!r}"
ERR_NEEDS = "rate-limiting: limit_by {} needs {}"

LIMIT_HEADERS = {p: f"X-RateLimit-Limit-{p.capitalize()}" for p in PERIODS}
REMAINING_HEADERS = {p: f"X-RateLimit-Remaining-{p.capitalize()}" for p in PERIODS}
POLICY_HEADER, STATE_HEADER = "RateLimit-Policy", "RateLimit"  # the draft's structured fields
_FIELD_NAMES = {
    name.lower().encode(): name
    for name in (
        *LIMIT_HEADERS.values(), *REMAINING_HEADERS.values(), "RateLimit-Limit", "RateLimit-Remaining",
        "RateLimit-Reset", POLICY_HEADER, STATE_HEADER,
    )
}  # fmt: skip
_LINE_NAMES = {name: line for line, name in _FIELD_NAMES.items()}
_STRUCTURED = frozenset({POLICY_HEADER.lower().encode(), STATE_HEADER.lower().encode()})  # not numbers
_KEY_PREFIX = "agora:rl"
_MAX_IDENTIFIER = 64  # longer ones (header values) are hashed: keys stay short
_RECENT = 4096  # callers whose current counters are kept; forgotten all at once beyond
_UNAVAILABLE = "agora.rate-limiting.unavailable"  # kong.ctx.shared: the policy could not answer this call


def _explicit_limits(config: dict[str, Any]) -> dict[str, int]:
    mapped = config["limits"] or {}
    unknown = set(mapped) - set(PERIODS)
    if unknown:
        raise InvalidInput(f"rate-limiting: limits has unknown period(s) {sorted(unknown)}")
    out: dict[str, int] = {}
    for period in PERIODS:
        value = config[period] if config[period] is not None else mapped.get(period)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInput(ERR_LIMIT.format(period, value))
        out[period] = value
    return out


class Later(Protocol):
    """A policy that answers later (policies/redis.py): the call sent, then its reply read."""

    def submit(self, counters: list[Counter]) -> asyncio.Future[Any]: ...
    def conclude(self, reply: asyncio.Future[Any], counters: list[Counter]) -> Hit: ...


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.explicit = _explicit_limits(config)
        self.limit_by: str = config["limit_by"]
        self.header_name: str | None = config["header_name"]
        self.path: str | None = config["path"]
        if self.limit_by == "header" and not self.header_name:
            raise InvalidInput(ERR_NEEDS.format("header", "header_name"))
        if self.limit_by == "path" and not self.path:
            raise InvalidInput(ERR_NEEDS.format("path", "path"))
        if not 400 <= config["error_code"] <= 599:
            raise InvalidInput("rate-limiting: error_code must be a 4xx or 5xx status")
        if config["redis_timeout"] <= 0:
            raise InvalidInput("rate-limiting: redis_timeout must be positive (milliseconds)")
        self.sliding = config["window"] == "sliding"
        self.fault_tolerant: bool = config["fault_tolerant"]
        self.hide_client_headers: bool = config["hide_client_headers"]
        self.error_code: int = config["error_code"]
        self.error_message: str = config["error_message"]
        self.policy = select(config["policy"], config["redis_url"], config["redis_timeout"])
        self._check = self.policy.check if isinstance(self.policy, LocalPolicy) else None
        # plan name -> (the plan entry they were read from, limits): merged once per plan, not per call
        self._planned: dict[str, tuple[dict[str, Any] | None, dict[str, int]]] = {}
        # counter scope -> (limits, valid from, valid until, windows, counters, rendering): see _counters
        self._recent: dict[
            str, tuple[dict[str, int], int, int, list[Window], list[Counter], Rendering | None]
        ] = {}

    def access(self, kong: Any) -> Awaitable[None] | None:
        """Sync with the local policy (nothing to wait for: no coroutine per call); with Redis it
        returns the coroutine that waits for the policy's answer, which the runner awaits."""
        service = kong.router.get_service() or {}
        limits = self._limits(kong, service)
        if not limits:
            return None
        kind, identifier = self._identify(kong)
        scope = f"{_scope_prefix(service)}:{kind}:{identifier}"
        now = time.time()
        windows, counters, rendering = self._counters(scope, limits, now)
        if self._check is not None:
            self._answer(kong, windows, counters, self._check(counters), now, rendering)
            return None
        return self._remote(kong, windows, counters, now, rendering)

    async def _remote(
        self,
        kong: Any,
        windows: list[Window],
        counters: list[Counter],
        now: float,
        rendering: Rendering | None,
    ) -> None:
        try:
            if kong.ctx.shared.get(_UNAVAILABLE):  # the fast step has just been told (fast_path)
                raise PolicyUnavailable(ERR_UNAVAILABLE)
            hit = await self.policy.hit(counters)
        except PolicyUnavailable:
            # The policy logs the outage (rate limited); the call is served uncounted, or refused.
            if not self.fault_tolerant:
                kong.response.error(503, ERR_UNAVAILABLE, {"Retry-After": 1})
            return
        self._answer(kong, windows, counters, hit, now, rendering)

    def _answer(
        self,
        kong: Any,
        windows: list[Window],
        counters: list[Counter],
        hit: Hit,
        now: float,
        rendering: Rendering | None,
    ) -> None:
        """The headers, and the refusal when a limit is reached."""
        if hit.allowed and rendering is not None:
            if not self.hide_client_headers:
                kong.response.set_headers(as_fields(fixed_lines(rendering, hit.counts, now)))
            return
        usages = [
            Usage(w, c.limit, current, previous, c.weight)
            for w, c, (current, previous) in zip(windows, counters, hit.counts, strict=True)
        ]
        if not self.hide_client_headers:
            kong.response.set_headers(_headers(usages, now))
        if not hit.allowed:
            retry_after = max(u.reset(now) for u in usages if u.remaining == 0)
            kong.response.error(self.error_code, self.error_message, {"Retry-After": retry_after})

    def _counters(
        self, scope: str, limits: dict[str, int], now: float
    ) -> tuple[list[Window], list[Counter], Rendering | None]:
        """The windows containing `now`, their counters and (fixed windows) what their headers are made
        of. With fixed windows nothing in them changes until the shortest window ends, so a caller's next
        calls until then reuse them."""
        recent = self._recent.get(scope)
        if recent is not None and recent[0] is limits and recent[1] <= now < recent[2]:
            return recent[3], recent[4], recent[5]
        windows = [window(period, now) for period in limits]
        sliding = self.sliding
        counters = [  # positional: a NamedTuple's keyword call costs twice as much
            Counter(
                f"{scope}:{w.period}:{w.start}",  # key
                f"{scope}:{w.period}:{w.previous_start}" if sliding else None,  # previous_key
                limits[w.period],  # limit
                w.weight(now) if sliding else 0.0,  # weight
                w.ttl(sliding),  # ttl
            )
            for w in windows
        ]
        if sliding:  # a sliding window's weight changes with every call: nothing kept
            return windows, counters, None
        rendering = _rendering(windows, limits)
        if len(self._recent) >= _RECENT:
            self._recent.clear()
        valid_from, valid_until = max(w.start for w in windows), min(w.end for w in windows)
        self._recent[scope] = (limits, valid_from, valid_until, windows, counters, rendering)
        return windows, counters, rendering

    def _limits(self, kong: Any, service: Mapping[str, Any]) -> dict[str, int]:
        if len(self.explicit) == len(PERIODS):
            return self.explicit
        return self._planned_limits(kong.client.get_consumer(), kong.ctx.shared, service, kong.agora.get_plan)

    def _planned_limits(
        self,
        consumer: dict[str, Any] | None,
        shared: Any,
        service: Mapping[str, Any],
        get_plan: Callable[[str], dict[str, Any] | None],
    ) -> dict[str, int]:
        # The subscription's plan first: the plan the developer chose (and the agency approved) for
        # this API is the one applied, not the application's default plan.
        grant = (
            find_grant(consumer, str(service.get("agency", "")), str(service.get("api", "")))
            if consumer and consumer.get("grants")
            else None
        )
        plan_name = (grant or {}).get("plan") or shared.get(CTX_PLAN) or (consumer or {}).get("plan")
        if not plan_name:
            return self.explicit  # anonymous callers of open APIs: the configured limits alone
        plan = get_plan(plan_name)
        cached = self._planned.get(plan_name)
        if cached is not None and cached[0] is plan:  # the same plan entry of the same snapshot
            return cached[1]
        planned = (plan or {}).get("limits") or {}
        out: dict[str, int] = {}
        for period in PERIODS:
            value = self.explicit.get(period, planned.get(period))
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                out[period] = value
        self._planned[plan_name] = (plan, out)
        return out

    def fast_path(self, host: Host, service: Mapping[str, Any]) -> FastPath | None:
        """Allowed calls on fixed windows, counted by consumer, credential, service or address, without
        the PDK; a refusal (or a sliding window, a header...) is the PDK phase's (plugins/fast.py). A
        refused check counts nothing, so the PDK phase checks again from scratch. With the local policy
        the step answers at once; with Redis it returns a future of its answer."""
        check = self._check
        if self.sliding or self.limit_by not in ("consumer", "credential", "service", "ip"):
            return None
        policy, fault_tolerant = self.policy, self.fault_tolerant
        prefix, limit_by, explicit = _scope_prefix(service), self.limit_by, self.explicit
        every_period = len(explicit) == len(PERIODS)
        headers = not self.hide_client_headers

        # The policy that is not local (Redis) answers later, through `submit` and `conclude`: the step
        # returns a future its reply's callback resolves, which Agora's gateway carries on from without
        # a task (gateway/pipeline/direct.py).
        later = cast(Later, policy)

        def unavailable(state: State) -> bool:
            if fault_tolerant:
                return True  # served uncounted and without headers, as `_remote` serves it
            host.shared(state)[_UNAVAILABLE] = True  # the PDK phase refuses it without asking again
            return False

        def counted(state: State, hit: Hit, rendering: Rendering, now: float) -> bool:
            if not hit.allowed:
                return False  # the PDK phase refuses it (and checks again: nothing was counted)
            if headers:
                host.set_response_lines(state, fixed_lines(rendering, hit.counts, now))
            return True

        def remote(
            state: State, counters: list[Counter], rendering: Rendering, now: float
        ) -> bool | asyncio.Future[bool]:
            try:
                reply = later.submit(counters)
            except PolicyUnavailable:  # Redis rests after a failure: nothing to wait for
                return unavailable(state)
            answer: asyncio.Future[bool] = reply.get_loop().create_future()

            def concluded(reply: asyncio.Future[Any]) -> None:
                if answer.done():  # the client left meanwhile
                    return
                try:
                    hit = later.conclude(reply, counters)
                except PolicyUnavailable:
                    answer.set_result(unavailable(state))
                except Exception as error:
                    answer.set_exception(error)
                else:
                    answer.set_result(counted(state, hit, rendering, now))

            reply.add_done_callback(concluded)
            return answer

        def access(state: State) -> bool | Awaitable[bool]:
            consumer = host.consumer(state)
            if every_period:
                limits = explicit
            else:
                shared = host.shared(state)
                limits = self._planned_limits(
                    consumer, shared, service, lambda name: host.get_plan(state, name)
                )
            if not limits:
                return True
            found: Any = None  # as `_identify` chooses, from what the state holds
            if limit_by == "consumer":
                found = (consumer or {}).get("id")
            elif limit_by == "credential":
                found = (host.credential(state) or {}).get("id")
            elif limit_by == "service":
                found = "*"
            kind, identifier = _identity(limit_by, found) if found else ("ip", host.forwarded_ip(state))
            now = time.time()
            _, counters, rendering = self._counters(f"{prefix}:{kind}:{identifier}", limits, now)
            assert rendering is not None  # fixed windows
            if check is None:
                return remote(state, counters, rendering, now)
            return counted(state, check(counters), rendering, now)

        return FastPath(access=access)

    def _identify(self, kong: Any) -> tuple[str, str]:
        """(kind, identifier) of the counter; the client IP when the asked-for one is absent (Kong)."""
        found: Any = None
        if self.limit_by == "consumer":
            found = (kong.client.get_consumer() or {}).get("id")
        elif self.limit_by == "credential":
            found = (kong.client.get_credential() or {}).get("id")
        elif self.limit_by == "header":
            found = kong.request.get_header(self.header_name)
        elif self.limit_by == "path":
            found = self.path if kong.request.get_path() == self.path else None
        elif self.limit_by == "service":
            found = "*"
        if not found:
            return "ip", kong.client.get_forwarded_ip()
        return _identity(self.limit_by, found)


def _identity(limit_by: str, found: Any) -> tuple[str, str]:
    identifier = str(found)
    if len(identifier) > _MAX_IDENTIFIER:
        identifier = hashlib.sha256(identifier.encode()).hexdigest()
    return limit_by, identifier


def _scope_prefix(service: Mapping[str, Any]) -> str:
    """Counters are per API major: the service's name."""
    return f"{_KEY_PREFIX}:{service.get('name') or service.get('id') or '-'}"


class Rendering(NamedTuple):
    """What a caller's fixed windows' headers are made of, prepared once per window (`_counters`)."""

    # per period: its limit, its window's end, minus its length, its X-RateLimit-Limit line, and the
    # name of its X-RateLimit-Remaining
    periods: tuple[tuple[int, int, int, tuple[bytes, bytes], bytes], ...]
    policy: bytes  # RateLimit-Policy
    state: bytes  # RateLimit, with %d for each period's remaining calls and seconds to its end


def _rendering(windows: list[Window], limits: dict[str, int]) -> Rendering:
    periods = []
    for w in windows:
        limit = limits[w.period]
        limit_line = (_LINE_NAMES[LIMIT_HEADERS[w.period]], b"%d" % limit)
        periods.append((limit, w.end, w.start - w.end, limit_line, _LINE_NAMES[REMAINING_HEADERS[w.period]]))
    policy = ", ".join(_policy_item(w, limits[w.period]) for w in windows)
    state = ", ".join(_state_item(w, "%d", "%d") for w in windows)
    return Rendering(tuple(periods), policy.encode(), state.encode())


def fixed_lines(
    rendering: Rendering, counts: tuple[tuple[int, int], ...], now: float
) -> list[tuple[bytes, bytes]]:
    """The headers of an allowed call on fixed windows, the common case, as header lines (names
    lower-cased): `_headers` without a `Usage` per period (the remaining calls are the limit minus the
    count, the reset is the window's end), in the same order and words. Both paths send these: the fast
    path as they are, the PDK phase through `as_fields`."""
    second = int(now)  # the windows end on whole seconds after now: ceil(end - now) == end - floor(now)
    lines: list[tuple[bytes, bytes]] = []
    state: list[int] = []
    # (remaining, -length, limit, seconds to the end) of the most constrained period: fewest calls
    # left, on a tie the longer period (as Kong)
    tightest: tuple[int, int, int, int] | None = None
    for (limit, end, length, limit_line, remaining_name), (current, _) in zip(
        rendering.periods, counts, strict=True
    ):
        remaining, ends_in = limit - current, end - second
        lines += (limit_line, (remaining_name, b"%d" % remaining))
        state += (remaining, ends_in)
        rank = (remaining, length, limit, ends_in)
        if tightest is None or rank < tightest:
            tightest = rank
    assert tightest is not None
    lines += (
        (b"ratelimit-limit", b"%d" % tightest[2]),
        (b"ratelimit-remaining", b"%d" % tightest[0]),
        (b"ratelimit-reset", b"%d" % tightest[3]),
        (b"ratelimit-policy", rendering.policy),
        (b"ratelimit", rendering.state % tuple(state)),
    )
    return lines


def as_fields(lines: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """Header lines as the PDK's `set_headers` takes them: the names as documented, counts as numbers."""
    return {
        _FIELD_NAMES[name]: value.decode("latin-1") if name in _STRUCTURED else int(value)
        for name, value in lines
    }


def _policy_item(w: Window, limit: int) -> str:
    """One quota policy of RateLimit-Policy: the period's name (an sf-string), quota and window."""
    return f'"{w.period}";q={limit};w={w.end - w.start}'


def _state_item(w: Window, remaining: int | str, reset: int | str) -> str:
    """The same policy's state in RateLimit: calls left and seconds until that changes (or the
    placeholders a `Rendering` fills in)."""
    return f'"{w.period}";r={remaining};t={reset}'


def _headers(usages: list[Usage], now: float) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for usage in usages:
        headers[LIMIT_HEADERS[usage.window.period]] = usage.limit
        headers[REMAINING_HEADERS[usage.window.period]] = usage.remaining
    # Fewest calls left; on a tie the longer period, whose exhaustion lasts longer (as Kong).
    tightest = min(usages, key=lambda u: (u.remaining, u.window.start - u.window.end))
    headers["RateLimit-Limit"] = tightest.limit
    headers["RateLimit-Remaining"] = tightest.remaining
    headers["RateLimit-Reset"] = tightest.reset(now)
    headers[POLICY_HEADER] = ", ".join(_policy_item(u.window, u.limit) for u in usages)
    headers[STATE_HEADER] = ", ".join(_state_item(u.window, u.remaining, u.reset(now)) for u in usages)
    return headers


async def shutdown() -> None:
    """Closes this process's Redis connections (the gateway calls it on a graceful stop)."""
    from .policies.redis import aclose

    await aclose()
