"""What changed between two normalized specs, and which changes break existing clients.

Operations are matched by method and path template with parameter names blanked (`/a/{id}` is
`/a/{addressId}`: the URL is the same); path parameters are matched by position for the same reason.
Other parameters are matched by (location, name).

Breaking (a client written against `old` may fail against `new`):
  operation removed; response code removed; property removed from a success (2xx) response;
  parameter added as required, or became required; parameter type changed (`string` -> `integer`,
  `array[string]` -> `array[integer]`); request body became required; property became required in
  the request body; parameter removed when it was required or in the path.
Not breaking:
  operation added or deprecated; response code added; parameter added as optional or became
  optional; request body became optional; request-body property no longer required; an optional
  parameter removed. That last one follows oasdiff (a warning, not an error): clients that still
  send it are only broken if the server rejects unknown parameters, which a spec cannot promise. A
  required parameter is sent by every client, so its removal is classed as breaking.
Informational (never breaking: a client's calls work the same), from `x-agora-personal-data`:
  an operation starts or stops returning personal data, its categories or the person's identifier
  change; a legal basis is added, removed, or its title or retention changes (listed first, as they
  concern the whole API). A developer and the people whose data is read both want to know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from registry.specs.coerce import as_dict, as_list
from registry.specs.personal_data import LegalBasis, OperationData, PersonalData, Subject, personal_data

__all__ = ["Change", "diff_specs", "summarize"]

_TEMPLATE_PARAM = re.compile(r"\{([^}]*)\}")
# Property paths deeper than this are not compared: a change that deep is reported at a parent.
MAX_PROPERTY_DEPTH = 6


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    location: str
    message: str
    breaking: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "location": self.location,
            "message": self.message,
            "breaking": self.breaking,
        }


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Changes from `old` to `new` (both from `normalize`), grouped by operation in (path, method) order."""
    before, after = _operations(old), _operations(new)
    old_data, new_data = personal_data(old), personal_data(new)
    changes: list[Change] = list(_legal_basis_changes(old_data, new_data))
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0])):
        was, now = before.get(key), after.get(key)
        found = list(_operation_changes(was, now))
        if now is not None:
            where = f"{now['method']} {now['path']}"
            found.extend(_personal_data_changes(where, _declared(old_data, was), _declared(new_data, now)))
        changes.extend(sorted(found, key=_order))
    return changes


def summarize(changes: list[Change]) -> str:
    """One changelog paragraph: counts, then the breaking changes, then the others."""
    if not changes:
        return "No changes."
    breaking = [c for c in changes if c.breaking]
    other = [c for c in changes if not c.breaking]
    plural = "" if len(changes) == 1 else "s"
    text = f"{len(changes)} change{plural} ({len(breaking)} breaking)."
    if breaking:
        text += " Breaking: " + "; ".join(f"{c.location}: {c.message}" for c in breaking) + "."
    if other:
        text += " Other: " + "; ".join(f"{c.location}: {c.message}" for c in other) + "."
    return text


def _order(change: Change) -> tuple[str, str, str]:
    return (change.location, change.kind, change.message)


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    ops = {}
    for op in as_list(doc.get("operations")):
        ops[(str(op["method"]), _TEMPLATE_PARAM.sub("{}", str(op["path"])))] = op
    return ops


def _operation_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Iterator[Change]:
    if old is None or new is None:
        op = new or old
        assert op is not None
        where = f"{op['method']} {op['path']}"
        if new is None:
            yield Change("operation-removed", where, "operation removed", True)
        else:
            yield Change("operation-added", where, "operation added", False)
        return
    where = f"{new['method']} {new['path']}"
    if new.get("deprecated") and not old.get("deprecated"):
        yield Change("operation-deprecated", where, "operation deprecated", False)
    yield from _parameter_changes(where, old, new)
    yield from _request_body_changes(where, old.get("request_body"), new.get("request_body"))
    yield from _response_changes(where, as_dict(old.get("responses")), as_dict(new.get("responses")))


def _parameters(op: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    names = _TEMPLATE_PARAM.findall(str(op["path"]))
    params = {}
    for param in as_list(op.get("parameters")):
        name, location = str(param.get("name")), str(param.get("in"))
        key = (
            (location, f"#{names.index(name)}") if location == "path" and name in names else (location, name)
        )
        params[key] = param
    return params


def _parameter_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before, after = _parameters(old), _parameters(new)
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        param = now or was
        assert param is not None
        at = f"{where} parameter {param['in']}.{param['name']}"
        label = f"{param['in']} parameter '{param['name']}'"
        if was is None:
            required = bool(param.get("required"))
            kind = "parameter-added-required" if required else "parameter-added-optional"
            yield Change(kind, at, f"{'required' if required else 'optional'} {label} added", required)
        elif now is None:
            breaking = bool(was.get("required")) or was.get("in") == "path"
            yield Change("parameter-removed", at, f"{label} removed", breaking)
        else:
            if now.get("required") and not was.get("required"):
                yield Change("parameter-became-required", at, f"{label} became required", True)
            if was.get("required") and not now.get("required"):
                yield Change("parameter-became-optional", at, f"{label} became optional", False)
            old_type, new_type = _type(was.get("schema")), _type(now.get("schema"))
            if new_type and old_type != new_type:
                message = f"{label} type changed from {old_type or 'any'} to {new_type}"
                yield Change("parameter-type-changed", at, message, True)


def _type(schema: Any) -> str:
    """`string`, `array[integer]`...; empty when the schema does not constrain the type."""
    schema = as_dict(schema)
    kind = schema.get("type")
    kind = "|".join(sorted(map(str, kind))) if isinstance(kind, list) else str(kind or "")
    return f"{kind}[{_type(schema.get('items'))}]" if kind == "array" and schema.get("items") else kind


def _request_body_changes(where: str, old: Any, new: Any) -> Iterator[Change]:
    at = f"{where} request-body"
    was_required, now_required = bool(as_dict(old).get("required")), bool(as_dict(new).get("required"))
    if now_required and not was_required:
        yield Change("request-body-became-required", at, "request body became required", True)
    if was_required and not now_required:
        yield Change("request-body-became-optional", at, "request body became optional", False)
    before, after = _required_properties(old), _required_properties(new)
    for name in sorted(after - before):
        yield Change(
            "request-property-became-required", f"{at} {name}", f"property '{name}' became required", True
        )
    for name in sorted(before - after):
        yield Change(
            "request-property-became-optional", f"{at} {name}", f"property '{name}' became optional", False
        )


def _required_properties(body: Any) -> set[str]:
    schema = _preferred_schema(as_dict(body).get("content"))
    parts = [schema, *as_list(schema.get("allOf"))]
    return {str(name) for part in parts for name in as_list(as_dict(part).get("required"))}


def _preferred_schema(content: Any) -> dict[str, Any]:
    """The schema of the JSON media type if there is one, else of the first (what most clients send)."""
    content = as_dict(content)
    for media, entry in content.items():
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return as_dict(as_dict(entry).get("schema"))
    first = next(iter(content.values()), None)
    return as_dict(as_dict(first).get("schema"))


def _response_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for code in sorted(old.keys() | new.keys()):
        at = f"{where} response {code}"
        if code not in new:
            yield Change("response-removed", at, f"response {code} removed", True)
        elif code not in old:
            yield Change("response-added", at, f"response {code} added", False)
        elif code.startswith("2"):
            before = _property_paths(_preferred_schema(old[code].get("content")), "", 0)
            after = _property_paths(_preferred_schema(new[code].get("content")), "", 0)
            removed = before - after
            # Report `a` once rather than `a`, `a.b`, `a.c`...
            for path in sorted(p for p in removed if _parent(p) not in removed):
                yield Change("response-property-removed", f"{at} {path}", f"property '{path}' removed", True)


def _parent(path: str) -> str:
    """`a.b[].c` -> `a.b` (the property holding the array), `a` -> ``."""
    head = path.rsplit(".", 1)[0] if "." in path else ""
    while head.endswith("[]"):
        head = head[:-2]
    return head


def _property_paths(schema: Any, prefix: str, depth: int) -> set[str]:
    """Dotted paths of every property (`items[].name` for array items), unioned over allOf/oneOf/anyOf."""
    schema = as_dict(schema)
    if depth > MAX_PROPERTY_DEPTH:
        return set()
    paths: set[str] = set()
    for key in ("allOf", "oneOf", "anyOf"):
        for part in as_list(schema.get(key)):
            paths |= _property_paths(part, prefix, depth + 1)
    if isinstance(schema.get("items"), dict):
        paths |= _property_paths(schema["items"], f"{prefix}[]" if prefix else "[]", depth + 1)
    for name, sub in as_dict(schema.get("properties")).items():
        path = f"{prefix}.{name}" if prefix else str(name)
        paths.add(path)
        paths |= _property_paths(sub, path, depth + 1)
    return paths


def _declared(data: PersonalData | None, op: dict[str, Any] | None) -> OperationData | None:
    if data is None or op is None:
        return None
    return data.operations.get(str(op.get("operation_id")))


def _identifier(subject: Subject) -> str:
    where = {
        "path": "path parameter",
        "query": "query parameter",
        "header": "header",
        "jwt-claim": "JWT claim",
    }
    return f"{where.get(subject.source, subject.source)} '{subject.name}'"


def _personal_data_changes(
    where: str, old: OperationData | None, new: OperationData | None
) -> Iterator[Change]:
    at = f"{where} personal-data"
    if old is None and new is None:
        return
    if old is None:
        assert new is not None
        message = (
            f"returns personal data ({', '.join(new.categories)}), "
            f"the person identified by {_identifier(new.subject)}"
        )
        yield Change("personal-data-added", at, message, False)
        return
    if new is None:
        yield Change("personal-data-removed", at, "no longer returns personal data", False)
        return
    added = [c for c in new.categories if c not in old.categories]
    removed = [c for c in old.categories if c not in new.categories]
    if added or removed:
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else []
        )
        message = f"personal data categories changed: {'; '.join(parts)}"
        yield Change("personal-data-categories-changed", at, message, False)
    if new.subject != old.subject:
        message = (
            f"the person is now identified by {_identifier(new.subject)} (was {_identifier(old.subject)})"
        )
        yield Change("personal-data-subject-changed", at, message, False)


def _legal_basis_changes(old: PersonalData | None, new: PersonalData | None) -> Iterator[Change]:
    if new is None:
        return  # no operation returns personal data any more: each says so, and no basis is used
    before: dict[str, LegalBasis] = {b.id: b for b in (old.legal_bases if old else ())}
    after: dict[str, LegalBasis] = {b.id: b for b in new.legal_bases}
    for basis_id in sorted(before.keys() | after.keys()):
        was, now = before.get(basis_id), after.get(basis_id)
        at = f"legal basis {basis_id}"
        if was is None:
            assert now is not None
            message = f"legal basis '{basis_id}' ({now.title}) added, accesses kept {now.retention_days} days"
            yield Change("legal-basis-added", at, message, False)
        elif now is None:
            yield Change("legal-basis-removed", at, f"legal basis '{basis_id}' ({was.title}) removed", False)
        else:
            if now.title != was.title:
                message = f"legal basis '{basis_id}' renamed from '{was.title}' to '{now.title}'"
                yield Change("legal-basis-changed", at, message, False)
            if now.retention_days != was.retention_days:
                message = (
                    f"legal basis '{basis_id}': accesses kept {now.retention_days} days "
                    f"(was {was.retention_days})"
                )
                yield Change("legal-basis-changed", at, message, False)
