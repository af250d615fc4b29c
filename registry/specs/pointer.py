"""RFC 6901 JSON Pointers into a spec document, and local `$ref` following.

Findings, normalized `$ref` markers and diff locations all speak JSON Pointer, so the escaping
rules live here once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MISSING", "escape", "follow_refs", "join", "lookup", "real_pointer", "unescape"]

# Bounds `$ref` chains (a -> b -> a) that would otherwise loop forever.
MAX_REF_HOPS = 64


class _Missing:
    """Sentinel for "no value at this pointer" (`None` is a legal JSON value)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(parts: Iterable[object]) -> str:
    """`("paths", "/a", "get")` -> `/paths/~1a/get`; no parts is the whole document, `""`."""
    return "".join("/" + escape(part) for part in parts)


def lookup(doc: Any, pointer: str) -> Any:
    """The value at `pointer` (`""` or `"/..."`, or a `#/...` reference), or `MISSING`."""
    pointer = pointer.removeprefix("#")
    if pointer == "":
        return doc
    if not pointer.startswith("/"):
        return MISSING
    node = doc
    for token in pointer[1:].split("/"):
        node = _child(node, unescape(token))
        if node is MISSING:
            return MISSING
    return node


def _child(node: Any, key: object) -> Any:
    if isinstance(node, dict):
        return node[key] if key in node else node.get(str(key), MISSING)
    if isinstance(node, list):
        try:
            index = int(str(key))
        except ValueError:
            return MISSING
        return node[index] if 0 <= index < len(node) else MISSING
    return MISSING


def _local_ref(node: Any) -> str | None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            return ref
    return None


def follow_refs(doc: Any, node: Any, parts: list[str]) -> tuple[Any, list[str]]:
    """Jump through local `$ref`s from `node` (found at `parts`) to where the value really lives."""
    for _ in range(MAX_REF_HOPS):
        ref = _local_ref(node)
        if ref is None:
            break
        target = lookup(doc, ref)
        if target is MISSING:
            break
        node = target
        body = ref.removeprefix("#")
        parts = [unescape(token) for token in body[1:].split("/")] if body else []
    return node, parts


def real_pointer(doc: Any, parts: Iterable[object]) -> str:
    """The pointer to the value a reference-following walk along `parts` reaches.

    openapi-spec-validator walks the spec through `$ref`s, so the path it knows (`.../schema/properties/x`)
    may not exist literally in the file; a spec author needs the place they can edit instead.
    """
    node: Any = doc
    where: list[str] = []
    for part in parts:
        node, where = follow_refs(doc, node, where)
        node = _child(node, part)
        where = [*where, str(part)]
    _, where = follow_refs(doc, node, where)
    return join(where)
