"""`access-control`: a restricted API answers only applications with an approved access grant.

Runs after key-auth (Kong's acl priority, 950). The caller's application (`kong.client.get_consumer()`)
must hold a grant for the service's `<agency>/<api>`; otherwise the answer is a 403 problem linking to
the portal page where access is requested. With no application at all (key-auth let an anonymous call
through) the answer is 401. Sandbox keys pass without a grant (`allow_sandbox`): the gateway answers
them from the API's examples, never from the agency's upstream.

On success `kong.ctx.shared["agora.plan"]` (`plugins.CTX_PLAN`) becomes the grant's plan slug, so the
rate-limiting plugin applies the plan the agency granted rather than the application's own plan.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from agora.errors import PROBLEM_BASE
from agora.settings import load_settings
from plugins import CTX_PLAN
from plugins.access_control.grants import find_grant
from plugins.access_control.schema import Schema
from plugins.fast import FastPath, Host, State

__all__ = ["ERR_NOT_GRANTED", "ERR_NO_APPLICATION", "PRIORITY", "VERSION", "Plugin", "Schema", "priority",
           "version"]  # fmt: skip

PRIORITY = 950  # Kong's acl: after authentication (key-auth 1250), before rate-limiting (910)
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_NOT_GRANTED = "Access to this API has not been granted to your application"
ERR_NO_APPLICATION = "This API needs an application with an approved access grant; send its API key"
PROBLEM_TYPE = PROBLEM_BASE + "access-not-granted"
_SANDBOX = object()  # a sandbox key's call passes without a grant, and sets no plan


@lru_cache(maxsize=4)
def _platform_portal(_env_url: str | None) -> str:
    return load_settings().portal_url


def platform_portal_url() -> str:
    return _platform_portal(os.environ.get("AGORA_PORTAL_URL"))


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.portal_url = str(config["portal_url"] or platform_portal_url()).rstrip("/")
        self.allow_sandbox: bool = config["allow_sandbox"]

    def access(self, kong: Any) -> None:
        consumer = kong.client.get_consumer()
        if consumer is None:
            kong.response.error(401, ERR_NO_APPLICATION)
            return
        service = kong.router.get_service() or {}
        agency, api = str(service.get("agency", "")), str(service.get("api", ""))
        granted, plan = self._decide(consumer, kong.client.get_credential(), agency, api)
        if not granted:
            self._refuse(kong, agency, api)
        elif plan is not _SANDBOX:
            kong.ctx.shared[CTX_PLAN] = plan

    def _decide(
        self, consumer: dict[str, Any], credential: dict[str, Any] | None, agency: str, api: str
    ) -> tuple[bool, Any]:
        """(granted, the plan that governs the call, or _SANDBOX for a sandbox key passed without one)."""
        if self.allow_sandbox and credential is not None and credential.get("sandbox"):
            return True, _SANDBOX
        grant = find_grant(consumer, agency, api)
        if grant is None:
            return False, None
        return True, grant.get("plan") or consumer.get("plan")

    def fast_path(self, host: Host, service: Mapping[str, Any]) -> FastPath | None:
        """Granted calls without the PDK; a refusal is the PDK phase's (plugins/fast.py)."""
        agency, api = str(service.get("agency", "")), str(service.get("api", ""))
        decide = self._decide

        def access(state: State) -> bool:
            consumer = host.consumer(state)
            if consumer is None:
                return False
            granted, plan = decide(consumer, host.credential(state), agency, api)
            if not granted:
                return False
            if plan is not _SANDBOX:
                host.shared(state)[CTX_PLAN] = plan
            return True

        return FastPath(access=access)

    def _refuse(self, kong: Any, agency: str, api: str) -> None:
        page = f"{self.portal_url}/{agency}/{api}/"
        problem = {
            "type": PROBLEM_TYPE,
            "title": "Forbidden",
            "status": 403,
            "detail": f"{ERR_NOT_GRANTED}; request access at {page}",
            "request_access": page,
        }
        headers = {"Content-Type": "application/problem+json", "Link": f'<{page}>; rel="help"'}
        kong.response.exit(403, problem, headers)
