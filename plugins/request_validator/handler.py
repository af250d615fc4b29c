"""`request-validator`: the request's parameters and body against its operation's schemas, before the
upstream sees it.

Opt-in per API or per operation (`x-agora-plugins`); the registry compiles the operation's
parameters and body schemas into each route's entry (docs/plugins-auth.md explains why the config
carries them). Every violation is reported at once: one 400 problem document whose `errors` lists
`{location, message}` (`query.limit`, `path.company_id`, `body/items/0/name`...). A route whose
operation takes a body has the body read (`body_limit`: at most `max_body_bytes`, 413 beyond) and
then replayed to the upstream unchanged; other routes keep streaming.
"""

from __future__ import annotations

from typing import Any

from agora.errors import PROBLEM_BASE, InvalidInput
from plugins.request_validator.checks import (
    Violation,
    body_violations,
    compile_schema,
    cookies,
    parameter_violations,
)
from plugins.request_validator.schema import Schema

__all__ = [
    "ERR_INVALID_REQUEST",
    "MAX_LISTED",
    "PRIORITY",
    "VERSION",
    "Plugin",
    "Schema",
    "priority",
    "version",
]

PRIORITY = 999  # Kong's request-validator: after authentication (jwt 1450, key-auth 1250)
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_INVALID_REQUEST = "The request does not match this operation's description ({} violation(s))"
MAX_LISTED = 50  # a pathological request cannot make the answer arbitrarily long
_PLACES = ("path", "query", "header", "cookie")


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        dialect = config["openapi"]
        self.parameters = []
        for param in config["parameters"]:
            if not isinstance(param, dict) or param.get("in") not in _PLACES or not param.get("name"):
                raise InvalidInput(f"request-validator: a parameter needs a name and `in` among {_PLACES}")
            name, where, schema = str(param["name"]), str(param["in"]), param.get("schema")
            validator = compile_schema(schema, dialect, f"{where} parameter {name!r}")
            self.parameters.append((name, where, bool(param.get("required")), schema, validator))
        body = config["body"] or {}
        content = body.get("content") or {}
        self.body_required = bool(body.get("required"))
        self.body_validators = {
            str(media).lower(): compile_schema(schema, dialect, f"{media} body")
            for media, schema in content.items()
        }
        self.checks_body = bool(config["body"])
        # Read by the plugin host: the body is buffered (gateway/pipeline/body.py) only where there is one
        # to check.
        self.body_limit: int = config["max_body_bytes"] if self.checks_body else 0
        self._wants = {p[1] for p in self.parameters}

    def access(self, kong: Any) -> None:
        violations = parameter_violations(self.parameters, self._found(kong))
        if self.checks_body:
            body = kong.request.get_raw_body()
            violations += body_violations(
                body, kong.request.get_header("content-type"), self.body_required, self.body_validators
            )
        if violations:
            kong.response.exit(
                400, self._problem(kong, violations), {"Content-Type": "application/problem+json"}
            )

    def _found(self, kong: Any) -> dict[str, dict[str, Any]]:
        """Only the places this operation has parameters in are read."""
        found: dict[str, dict[str, Any]] = {}
        if "path" in self._wants:
            found["path"] = kong.request.get_uri_captures()["named"]
        if "query" in self._wants:
            found["query"] = kong.request.get_query()
        if "header" in self._wants:
            found["header"] = {k: ",".join(v) if isinstance(v, list) else v
                               for k, v in kong.request.get_headers().items()}  # fmt: skip
        if "cookie" in self._wants:
            found["cookie"] = cookies(kong.request.get_header("cookie"))
        return found

    @staticmethod
    def _problem(kong: Any, violations: list[Violation]) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + "invalid-request",
            "title": "Invalid request",
            "status": 400,
            "detail": ERR_INVALID_REQUEST.format(len(violations)),
            "instance": kong.request.get_path(),
            "errors": violations[:MAX_LISTED],
        }
