"""The spec downloads of a version (JSON and YAML) and the copy the console loads, which points at the
gateway and authenticates with the portal's `apikey` header whatever the agency's spec declared."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from registry.specs import dump_json, dump_yaml, load_spec

__all__ = ["console_spec", "spec_downloads"]

SCHEME = "agoraApiKey"
RELAY_PREFIX = "/gateway"  # devportal.web.relay


def spec_downloads(spec_text: str, spec_format: str) -> dict[str, str]:
    """`openapi.json` and `openapi.yaml`: the agency's text verbatim in its format, converted in the other."""
    document = load_spec(spec_text)
    if spec_format == "json":
        return {"openapi.json": spec_text, "openapi.yaml": dump_yaml(document)}
    return {"openapi.json": dump_json(document), "openapi.yaml": spec_text}


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
