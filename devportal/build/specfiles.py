"""The spec downloads of a version (JSON and YAML) and the copy the console loads, which points at the
gateway and authenticates with the portal's `apikey` header whatever the agency's spec declared."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from registry.specs import dump_json, dump_yaml, load_spec

__all__ = ["console_spec", "spec_downloads", "with_gateway_servers"]

SCHEME = "agoraApiKey"
RELAY_PREFIX = "/gateway"  # devportal.web.relay


def with_gateway_servers(document: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The document as a developer downloads it: its servers are the gateway's URL of this API major,
    so a client generated from it calls the platform, not the agency's upstream."""
    out = copy.deepcopy(document)
    if "swagger" in out:
        parts = urlsplit(base_url)
        out.update(host=parts.netloc, basePath=parts.path or "/", schemes=[parts.scheme])
    else:
        out["servers"] = [{"url": base_url, "description": "The platform's gateway"}]
    return out


def spec_downloads(spec_text: str, base_url: str) -> dict[str, str]:
    """`openapi.json` and `openapi.yaml`: the agency's document pointing at the gateway (`servers`)."""
    document = with_gateway_servers(load_spec(spec_text), base_url)
    return {"openapi.json": dump_json(document), "openapi.yaml": dump_yaml(document)}


def _strip_operation_security(document: dict[str, Any]) -> None:
    for item in (document.get("paths") or {}).values():
        if isinstance(item, dict):
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("security", None)


def console_spec(spec_text: str, *, base_url: str, keyed: bool) -> str:
    """The console calls the gateway through the portal's relay (`/gateway/...`, same origin: no CORS
    needed); OpenAPI 3 documents also list the gateway's own URL, for when it answers CORS itself."""
    document = copy.deepcopy(load_spec(spec_text))
    _strip_operation_security(document)
    scheme = {"type": "apiKey", "in": "header", "name": "apikey", "description": "Your application's key"}
    relay = RELAY_PREFIX + urlsplit(base_url).path
    if "swagger" in document:
        document.pop("host", None)  # the host serving the console: the portal
        document.update(basePath=relay)
        document.pop("schemes", None)
        document["securityDefinitions"] = {SCHEME: scheme} if keyed else {}
    else:
        document["servers"] = [
            {"url": relay, "description": "The gateway, through the portal"},
            {"url": base_url, "description": "The gateway, directly"},
        ]
        components = document.setdefault("components", {})
        components["securitySchemes"] = {SCHEME: scheme} if keyed else {}
    document["security"] = [{SCHEME: []}] if keyed else []
    return dump_json(document)
