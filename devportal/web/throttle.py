"""Per-address limits on the account forms that cost the most and tempt the most: sign-up (an email sent,
an argon2 hash computed, an account created) and sign-in (an argon2 verification, password guessing).

Attempts are counted per client address in fixed windows, in rate-limiting's counters: Redis when the
platform has one (`AGORA_REDIS_URL`, shared by every portal process), else this application's memory.
Over the limit the form answers 429 with `Retry-After`, before any password is hashed. Limits:
`AGORA_PORTAL_SIGNUP_LIMIT` (default `5/3600`: five per hour) and `AGORA_PORTAL_SIGNIN_LIMIT`
(default `10/300`), `AGORA_PORTAL_RESET_LIMIT` (password reset mails, default `5/3600`) and
`AGORA_PORTAL_LOOKUP_LIMIT` (an agency console's look-ups of a person's accesses to their data,
default `30/3600`), as `attempts/seconds`. Behind a reverse proxy every client has the proxy's address:
run the portal with the proxy's headers trusted (uvicorn's `--forwarded-allow-ips`) or raise the limits.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

from starlette.requests import Request

from plugins.rate_limiting.policies import Counter, Policy, PolicyUnavailable
from plugins.rate_limiting.policies.local import LocalPolicy

__all__ = ["LIMITS", "Refusal", "attempt"]

LIMITS = {
    "signup": ("AGORA_PORTAL_SIGNUP_LIMIT", "5/3600"),
    "signin": ("AGORA_PORTAL_SIGNIN_LIMIT", "10/300"),
    "reset": ("AGORA_PORTAL_RESET_LIMIT", "5/3600"),
    "lookup": ("AGORA_PORTAL_LOOKUP_LIMIT", "30/3600"),  # an agency's look-ups of one person's accesses
}


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: int
    detail: str


def _limit(action: str) -> tuple[int, int]:
    variable, default = LIMITS[action]
    raw = os.environ.get(variable) or default
    try:
        count, seconds = (int(part) for part in raw.split("/", 1))
    except ValueError as exc:
        raise ValueError(f"{variable} must be attempts/seconds, like {default}, not {raw!r}") from exc
    return count, seconds


def _policy(request: Request) -> Policy:
    """One per application: the tests' many apps in one process must not share counts."""
    found: Policy | None = getattr(request.app.state, "throttle_policy", None)
    if found is None:
        redis_url = request.app.state.portal.settings.redis_url
        if redis_url:
            from plugins.rate_limiting.policies.redis import RedisPolicy

            found = RedisPolicy(redis_url, 500)
        else:
            found = LocalPolicy()
        request.app.state.throttle_policy = found
    return found


async def attempt(request: Request, action: str) -> Refusal | None:
    """Counts one attempt of `action` from the caller's address; a Refusal when it is over the limit."""
    count, seconds = _limit(action)
    now = time.time()
    start = int(now // seconds) * seconds
    address = request.client.host if request.client else "-"
    counter = Counter(f"agora:portal:{action}:{address}:{start}", None, count, 0.0, seconds + 5)
    try:
        hit = await _policy(request).hit([counter])
    except PolicyUnavailable:
        return None  # counters down: the forms still work (rate-limiting logs the outage)
    if hit.allowed:
        return None
    wait = max(1, math.ceil(start + seconds - now))
    what = {
        "signup": "sign-ups", "signin": "sign-in attempts", "reset": "reset requests", "lookup": "look-ups"
    }[action]  # fmt: skip
    return Refusal(wait, f"Too many {what} from your address; try again in {math.ceil(wait / 60)} minute(s).")
