"""Security schemes and requirements in one shape for Swagger 2.0 and OpenAPI 3.x.

Swagger 2's `basic` becomes OpenAPI 3's `http`/`basic`; its single oauth2 `flow` becomes a `flows`
entry under the OpenAPI 3 name (`application` -> `clientCredentials`, `accessCode` ->
`authorizationCode`). Every scheme has the same keys, `None` where they do not apply.
"""

from __future__ import annotations

from typing import Any

from registry.specs.coerce import as_dict, strings, text
from registry.specs.refs import Resolver

__all__ = ["requirements", "security_schemes"]

_FLOW_NAMES = {"application": "clientCredentials", "accessCode": "authorizationCode"}


def security_schemes(doc: dict[str, Any], kind: str, resolver: Resolver) -> dict[str, Any]:
    if kind == "swagger-2.0":
        raw = as_dict(doc.get("securityDefinitions"))
    else:
        raw = as_dict(as_dict(doc.get("components")).get("securitySchemes"))
    schemes = {}
    for name, value in sorted(raw.items()):
        scheme = as_dict(resolver.shallow(value))
        kind_of = scheme.get("type")
        flows: dict[str, Any] = {}
        if kind == "swagger-2.0" and kind_of == "oauth2" and isinstance(scheme.get("flow"), str):
            flows[_FLOW_NAMES.get(scheme["flow"], scheme["flow"])] = _flow(scheme)
        else:
            flows = {str(flow): _flow(as_dict(spec)) for flow, spec in as_dict(scheme.get("flows")).items()}
        basic = kind_of == "basic"  # Swagger 2's basic is OpenAPI 3's http/basic
        schemes[str(name)] = {
            "type": "http" if basic else kind_of,
            "description": text(scheme.get("description")),
            "in": scheme.get("in"),
            "name": scheme.get("name"),
            "scheme": "basic" if basic else scheme.get("scheme"),
            "bearer_format": scheme.get("bearerFormat"),
            "flows": flows,
            "open_id_connect_url": scheme.get("openIdConnectUrl"),
        }
    return schemes


def _flow(flow: dict[str, Any]) -> dict[str, Any]:
    return {
        "authorization_url": flow.get("authorizationUrl"),
        "token_url": flow.get("tokenUrl"),
        "refresh_url": flow.get("refreshUrl"),
        "scopes": {str(k): text(v) for k, v in as_dict(flow.get("scopes")).items()},
    }


def requirements(raw: Any) -> list[dict[str, list[str]]] | None:
    """Security requirements, or None when the spec does not set them (then the default applies)."""
    if not isinstance(raw, list):
        return None
    return [{str(k): strings(v) for k, v in req.items()} for req in raw if isinstance(req, dict)]
