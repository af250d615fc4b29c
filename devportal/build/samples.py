"""Code samples for one operation (curl, Python with httpx, JavaScript with fetch) that work as pasted
once the key is filled in: the gateway URL, path parameters and required query parameters are filled
from the spec's examples (the parameter's, then its schema's), then the schema's default or first enum
value, then a value of the schema's type and format; a plain string with none of these becomes a
placeholder that says what to put (`YOUR_COMPANY_ID`). The request body is the spec's example.
"""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import quote, urlencode

from registry.specs import schema_example

__all__ = [
    "KEY_PLACEHOLDER",
    "call_url",
    "code_samples",
    "parameter_value",
    "placeholder",
    "request_example",
]

KEY_PLACEHOLDER = "YOUR_API_KEY"


def parameter_value(param: dict[str, Any]) -> str:
    schema = param.get("schema") or {}
    examples = schema.get("examples")
    first = examples[0] if isinstance(examples, list) and examples else None
    for candidate in (param.get("example"), schema.get("example"), first, schema.get("default")):
        if candidate is not None and not isinstance(candidate, dict | list):
            return _scalar(candidate)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _scalar(schema["enum"][0])
    if _plain_string(schema):
        return placeholder(str(param.get("name", "value")))
    return _scalar(schema_example(schema))


def placeholder(name: str) -> str:
    """What to put, said in the value: `company_id` -> `YOUR_COMPANY_ID`."""
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_").upper()
    return f"YOUR_{cleaned or 'VALUE'}"


def _plain_string(schema: dict[str, Any]) -> bool:
    """A string whose only description is its type (or no schema at all): no generated value would be
    a real one, so the sample says what to put instead."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return (kind is None or "string" in kinds) and not any(
        schema.get(key) for key in ("format", "allOf", "oneOf", "anyOf", "properties", "items")
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def call_url(gateway_url: str, prefix: str, operation: dict[str, Any]) -> str:
    path = str(operation["path"])
    query: list[tuple[str, str]] = []
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", quote(parameter_value(param), safe=""))
        elif param["in"] == "query" and param.get("required"):
            query.append((param["name"], parameter_value(param)))
    return gateway_url + prefix + path + (f"?{urlencode(query)}" if query else "")


def request_example(operation: dict[str, Any]) -> tuple[str, Any] | None:
    """(media type, example) of the request body, JSON preferred; None without a body."""
    body = operation.get("request_body")
    if not body or not body.get("content"):
        return None
    content = body["content"]
    media = next((m for m in content if "json" in m), next(iter(content)))
    entry = content[media] or {}
    example = entry.get("example")
    return media, example if example is not None else schema_example(entry.get("schema") or {})


def _headers(keyed: bool, media: str | None) -> dict[str, str]:
    headers = {"apikey": KEY_PLACEHOLDER} if keyed else {}
    if media:
        headers["Content-Type"] = media
    return headers


def _body_text(media: str, example: Any) -> str:
    return json.dumps(example, indent=2, ensure_ascii=False) if "json" in media else _scalar(example)


def code_samples(gateway_url: str, prefix: str, operation: dict[str, Any], *, keyed: bool) -> dict[str, str]:
    url = call_url(gateway_url, prefix, operation)
    method = operation["method"]
    body = request_example(operation)
    media = body[0] if body else None
    headers = _headers(keyed, media)
    body_text = _body_text(*body) if body else None

    lines = [" ".join(["curl", "-sS", *(["-X", method] if method != "GET" else []), shlex.quote(url)])]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    if body is not None:
        compact = json.dumps(body[1], ensure_ascii=False) if "json" in body[0] else _scalar(body[1])
        lines.append(f"--data-binary {shlex.quote(compact)}")

    py = ["import httpx", "", f"response = httpx.request(\n    {method!r},\n    {url!r},"]
    if headers:
        py.append(f"    headers={json.dumps(headers)},")
    if body_text is not None:
        py.append(f"    content={body_text!r}.encode(),")
    py += ["    timeout=30,", ")", "response.raise_for_status()", "print(response.text)"]

    js_options = [f"  method: {json.dumps(method)},"]
    if headers:
        js_options.append(f"  headers: {json.dumps(headers)},")
    if body_text is not None:
        js_options.append(f"  body: {json.dumps(body_text, ensure_ascii=False)},")
    js = [
        f"const response = await fetch({json.dumps(url)}, {{",
        *js_options,
        "});",
        "if (!response.ok) throw new Error(`HTTP ${response.status}`);",
        "console.log(await response.text());",
    ]
    return {"curl": " \\\n  ".join(lines), "python": "\n".join(py), "javascript": "\n".join(js)}
