"""Turn an uploaded spec file into a JSON-compatible mapping, or say exactly where it does not parse.

JSON is read with the `json` module (fast, and its errors carry the right position); everything else
with a YAML safe loader. The result is always what a JSON parser would have produced: mapping keys
are strings (YAML reads `200:` as an int) and timestamps stay strings (YAML reads `2024-01-01` as a
date), because the registry stores and serves the document as JSON.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import yaml

from agora.errors import SpecUnparsable

__all__ = ["dump_json", "dump_yaml", "load_spec"]

_YAML_SUFFIXES = {".yaml", ".yml"}
# YAML aliases let a 1 kB file expand to gigabytes once serialized ("billion laughs"); no real spec
# comes near this many nodes (the largest shared spec has about 40 000).
MAX_NODES = 2_000_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _SpecLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that keeps timestamps as the strings the author wrote."""


_SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _BaseLoader.construct_yaml_str)


def load_spec(data: bytes | str, filename: str | None = None) -> dict[str, Any]:
    """Parse a JSON or YAML spec. The content decides; a `.yaml`/`.yml` name forces YAML."""
    text = _decode(data)
    suffix = PurePath(filename).suffix.lower() if filename else ""
    looks_like_json = text.lstrip().startswith(("{", "["))
    doc = _parse_json(text) if looks_like_json and suffix not in _YAML_SUFFIXES else _parse_yaml(text)
    if not isinstance(doc, dict):
        kind = "nothing" if doc is None else type(doc).__name__
        raise SpecUnparsable(f"the top level must be a mapping, found {kind}", line=1, column=1)
    result: dict[str, Any] = _jsonable(doc, {})[0]
    return result


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


def _jsonable(node: Any, seen: dict[int, tuple[Any, int]]) -> tuple[Any, int]:
    """Copy `node` with string keys, returning it with its expanded size in nodes.

    Alias-shared subtrees are converted once (`seen`) but counted every time they appear, so an alias
    bomb is refused in time linear in the file, not in its expansion.
    """
    if not isinstance(node, (dict, list)):
        return node, 1
    if id(node) in seen:
        return seen[id(node)]
    result: Any
    size = 1
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            result[_key(key)], child_size = _jsonable(value, seen)
            size += child_size
    else:
        result = []
        for item in node:
            converted, child_size = _jsonable(item, seen)
            result.append(converted)
            size += child_size
    if size > MAX_NODES:
        raise SpecUnparsable(f"the document expands to more than {MAX_NODES} nodes", line=1, column=1)
    seen[id(node)] = (result, size)
    return result, size


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
