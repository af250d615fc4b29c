"""The one error tree of Agora, mapped once to HTTP problem documents and CLI exit codes.

    AgoraError                      500  exit 1
    ├── InvalidInput                422  exit 2   a request or argument is malformed
    ├── PayloadTooLarge             413  exit 2   a request body past the server's limit
    ├── SpecError                   422  exit 3
    │   ├── SpecUnparsable          422           the file is not JSON/YAML (line and column given)
    │   ├── SpecInvalid             422           the spec has findings (each with its JSON location)
    │   ├── SpecRefused             422           platform policy refuses it (findings; never accepted)
    │   └── SpecTooLarge            422           past a size limit (AGORA_SPEC_MAX_*)
    ├── Unauthorized                401  exit 4   no or unknown credentials
    ├── Forbidden                   403  exit 4   credentials known, action not allowed
    ├── NotFound                    404  exit 5
    ├── Conflict                    409  exit 6   the resource exists, or its state forbids the change
    │   ├── InvalidTransition       409           a lifecycle/state-machine move that is not allowed
    │   └── BreakingChange          409           a breaking change within one major version
    └── Unavailable                 503  exit 7   a backing service (database, Redis) is down

Lower-level exceptions (SQLAlchemy, YAML, jsonschema) are translated into this tree where they
happen and never leak past a module boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AgoraError",
    "BreakingChange",
    "Conflict",
    "Finding",
    "Forbidden",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "PayloadTooLarge",
    "SpecError",
    "SpecInvalid",
    "SpecRefused",
    "SpecTooLarge",
    "SpecUnparsable",
    "Unauthorized",
    "Unavailable",
]

PROBLEM_BASE = "https://agora.example/problems/"


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect in a spec. `location` is an RFC 6901 JSON Pointer into the document."""

    location: str
    message: str
    rule: str = "schema"

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message, "rule": self.rule}

    def __str__(self) -> str:
        return f"{self.location or '/'}: {self.message}"


class AgoraError(Exception):
    """Base of every error Agora raises on purpose."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict[str, Any]:
        """Extra members of the problem document (RFC 9457 section 3.2)."""
        return {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions())
        return body


class InvalidInput(AgoraError):
    status, exit_code, slug, title = 422, 2, "invalid-input", "Invalid input"


class PayloadTooLarge(AgoraError):
    status, exit_code, slug, title = 413, 2, "payload-too-large", "Request body too large"


class SpecError(AgoraError):
    status, exit_code, slug, title = 422, 3, "spec-error", "Spec cannot be accepted"


class SpecUnparsable(SpecError):
    slug, title = "spec-unparsable", "Spec does not parse"

    def __init__(self, detail: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{detail}{where}")
        self.line = line
        self.column = column

    def extensions(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column}


class SpecInvalid(SpecError):
    slug, title = "spec-invalid", "Spec has findings"

    def __init__(self, findings: list[Finding]) -> None:
        first = findings[0] if findings else Finding("", "unknown")
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(f"{len(findings)} finding(s); first at {first}{more}")
        self.findings = findings

    def extensions(self) -> dict[str, Any]:
        return {"findings": [f.as_dict() for f in self.findings]}


class SpecRefused(SpecInvalid):
    """What the platform never lets an agency publish (a plugin URL reaching inside, a key-harvesting
    config): unlike findings, `accept_findings` does not override it."""

    slug, title = "spec-refused", "Spec refused by platform policy"


class SpecTooLarge(SpecError):
    slug, title = "spec-too-large", "Spec exceeds a size limit"


class Unauthorized(AgoraError):
    status, exit_code, slug, title = 401, 4, "unauthorized", "Unauthorized"


class Forbidden(AgoraError):
    status, exit_code, slug, title = 403, 4, "forbidden", "Forbidden"


class NotFound(AgoraError):
    status, exit_code, slug, title = 404, 5, "not-found", "Not found"


class Conflict(AgoraError):
    status, exit_code, slug, title = 409, 6, "conflict", "Conflict"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "State change not allowed"


class BreakingChange(Conflict):
    slug, title = "breaking-change", "Breaking change within a major version"

    def __init__(self, detail: str, changes: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.changes = changes

    def extensions(self) -> dict[str, Any]:
        return {"changes": self.changes}


class Unavailable(AgoraError):
    status, exit_code, slug, title = 503, 7, "unavailable", "Service unavailable"
