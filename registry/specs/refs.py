"""Local `$ref` resolution for normalization, finite even for recursive schemas.

A schema that contains itself (a tree node whose `children` are nodes) is expanded once; the inner
occurrence stays a `{"$ref": "#/..."}` marker, so consumers (portal, route compiler, diff) always get
a finite JSON value and can still tell where the recursion is.
"""

from __future__ import annotations

import copy
from typing import Any

from registry.specs.pointer import MAX_REF_HOPS, MISSING, lookup

__all__ = ["Resolver"]

# Values that are data, not schemas: a `$ref` key inside an example is the example's content.
_LITERAL_KEYS = frozenset({"example", "examples", "default", "enum", "const"})


class Resolver:
    """Resolves `#/...` references against one document. External references are left as they are."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        # Expansions that met no recursion are the same wherever they appear; caching them keeps
        # big specs (hundreds of references to a few shared schemas) linear.
        self._cache: dict[str, Any] = {}

    def shallow(self, node: Any) -> Any:
        """Follow a chain of references to the object it names (a parameter, response...), unexpanded."""
        for _ in range(MAX_REF_HOPS):
            ref = _local_ref(node)
            if ref is None:
                return node
            target = lookup(self._doc, ref)
            if target is MISSING:
                return node
            node = target
        return node

    def deep(self, node: Any) -> Any:
        """A fresh copy of `node` with every local reference expanded (recursion stops at a marker)."""
        return self._deep(node, ())[0]

    def _deep(self, node: Any, stack: tuple[str, ...]) -> tuple[Any, frozenset[str]]:
        """The expansion, and the references it left as recursion markers (it depends on those)."""
        if isinstance(node, list):
            items = [self._deep(item, stack) for item in node]
            return [item for item, _ in items], frozenset().union(*(hits for _, hits in items))
        if not isinstance(node, dict):
            return node, frozenset()
        ref = _local_ref(node)
        if ref is not None:
            return self._expand(ref, node, stack)
        result: dict[str, Any] = {}
        hits: frozenset[str] = frozenset()
        for key, value in node.items():
            if key in _LITERAL_KEYS or key.startswith("x-"):
                result[key] = copy.deepcopy(value)
                continue
            result[key], more = self._deep(value, stack)
            hits |= more
        return result, hits

    def _expand(self, ref: str, node: dict[str, Any], stack: tuple[str, ...]) -> tuple[Any, frozenset[str]]:
        target = lookup(self._doc, ref)
        if target is MISSING:
            return {"$ref": ref}, frozenset()
        if ref in stack:
            return {"$ref": ref}, frozenset({ref})
        if ref in self._cache:
            expanded, hits = copy.deepcopy(self._cache[ref]), frozenset[str]()
        else:
            expanded, hits = self._deep(target, (*stack, ref))
            # Markers of `ref` itself look the same wherever `ref` is expanded; others do not.
            hits -= {ref}
            if not hits:
                self._cache[ref] = copy.deepcopy(expanded)
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        if siblings and isinstance(expanded, dict):
            # OpenAPI 3.1 lets a reference carry its own description etc.; those win.
            sibling_values, more = self._deep(siblings, stack)
            expanded = {**expanded, **sibling_values}
            hits |= more
        return expanded, hits


def _local_ref(node: Any) -> str | None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            return ref
    return None
