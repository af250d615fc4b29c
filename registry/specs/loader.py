"""Turn an uploaded spec file into a JSON-compatible mapping, or say exactly where it does not parse.

JSON is read with the `json` module (fast, and its errors carry the right position); everything else
with a YAML safe loader. The result is always what a JSON parser would have produced: mapping keys
are strings (YAML reads `200:` as an int) and timestamps stay strings (YAML reads `2024-01-01` as a
date), because the registry stores and serves the document as JSON.

Limits (`agora.settings.SpecLimits`, refused as `SpecTooLarge`, 422 / exit 3): the file's size, its
size once YAML aliases are expanded (a 100 KB string aliased 1,000 times is 100 MB to every consumer of
the document), and its number of operations. An alias that refers to a node containing it is
refused as unparsable rather than recursing.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import yaml

from agora.errors import SpecTooLarge, SpecUnparsable
from agora.settings import SpecLimits

__all__ = ["count_operations", "dump_json", "dump_yaml", "load_spec"]

_YAML_SUFFIXES = {".yaml", ".yml"}
# YAML aliases let a 1 kB file expand to gigabytes once serialized ("billion laughs"); no real spec
# comes near this many nodes (the largest shared spec has about 40 000).
MAX_NODES = 2_000_000
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _SpecLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that keeps timestamps as the strings the author wrote."""


_SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _BaseLoader.construct_yaml_str)


def load_spec(
    data: bytes | str, filename: str | None = None, *, limits: SpecLimits | None = None
) -> dict[str, Any]:
    """Parse a JSON or YAML spec. The content decides; a `.yaml`/`.yml` name forces YAML."""
    limits = limits or SpecLimits()
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise SpecTooLarge(
            f"the spec is {size:,} bytes; this platform accepts at most {limits.max_bytes:,} "
            "(AGORA_SPEC_MAX_BYTES)"
        )
    text = _decode(data)
    suffix = PurePath(filename).suffix.lower() if filename else ""
    looks_like_json = text.lstrip().startswith(("{", "["))
    doc = _parse_json(text) if looks_like_json and suffix not in _YAML_SUFFIXES else _parse_yaml(text)
    if not isinstance(doc, dict):
        kind = "nothing" if doc is None else type(doc).__name__
        raise SpecUnparsable(f"the top level must be a mapping, found {kind}", line=1, column=1)
    result: dict[str, Any] = _Expander(limits.max_expanded_bytes).copy(doc)
    operations = count_operations(result)
    if operations > limits.max_operations:
        raise SpecTooLarge(
            f"the spec has {operations:,} operations; this platform accepts at most "
            f"{limits.max_operations:,} (AGORA_SPEC_MAX_OPERATIONS)"
        )
    return result


def count_operations(document: dict[str, Any]) -> int:
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return 0
    return sum(sum(1 for key in item if key in _METHODS) for item in paths.values() if isinstance(item, dict))


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecUnparsable(f"not UTF-8 text ({exc.reason})", line=line, column=column) from None


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecUnparsable(f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise SpecUnparsable("invalid JSON: nested too deeply", line=1, column=1) from None


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_SpecLoader)  # _SpecLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise SpecUnparsable(f"invalid YAML: {problem}", line=line, column=column) from None
    except yaml.reader.ReaderError as exc:
        # A forbidden control character: the error carries an offset, not a mark.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"unacceptable character U+{code:04X} ({exc.reason})"
        raise SpecUnparsable(f"invalid YAML: {problem}", line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise SpecUnparsable(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise SpecUnparsable("invalid YAML: nested too deeply", line=1, column=1) from None


class _Expander:
    """Copies a parsed document with string keys, measuring it as if every alias were expanded.

    Alias-shared subtrees are converted once (`seen`) but counted every time they appear, so an alias
    bomb is refused in time linear in the file, not in its expansion. The measure is close to the size
    of the document as JSON: a string counts its length, anything else a few bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.seen: dict[int, tuple[Any, int, int]] = {}
        self.open: set[int] = set()  # containers being copied: meeting one again is a cycle

    def copy(self, node: Any) -> Any:
        return self._copy(node)[0]

    def _copy(self, node: Any) -> tuple[Any, int, int]:
        if isinstance(node, str):
            return node, 1, len(node) + 2
        if not isinstance(node, (dict, list)):
            return node, 1, 8
        key = id(node)
        if key in self.seen:
            return self.seen[key]
        if key in self.open:
            raise SpecUnparsable(
                "invalid YAML: an alias refers to a node that contains it (a self-referential anchor)"
            )
        self.open.add(key)
        result: Any
        nodes, size = 1, 2
        if isinstance(node, dict):
            result = {}
            for name, value in node.items():
                text = _key(name)
                result[text], child_nodes, child_size = self._copy(value)
                nodes += child_nodes
                size += child_size + len(text) + 4
        else:
            result = []
            for item in node:
                converted, child_nodes, child_size = self._copy(item)
                result.append(converted)
                nodes += child_nodes
                size += child_size + 1
        if nodes > MAX_NODES:
            raise SpecTooLarge(f"the document expands to more than {MAX_NODES:,} nodes (YAML aliases)")
        if size > self.max_bytes:
            raise SpecTooLarge(
                f"the document expands to more than {self.max_bytes:,} bytes through YAML aliases or "
                "repetition; this platform accepts at most that (AGORA_SPEC_MAX_EXPANDED_BYTES)"
            )
        self.open.discard(key)
        self.seen[key] = (result, nodes, size)
        return result, nodes, size


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)  # true/false/null, as JSON would spell them
    return str(key)


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def dump_yaml(doc: Any) -> str:
    text: str = yaml.dump(doc, Dumper=_BaseDumper, sort_keys=False, allow_unicode=True, width=110)
    return text
