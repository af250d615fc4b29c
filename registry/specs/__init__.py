"""An agency's OpenAPI spec, the source of truth: parse, validate, normalize, diff, sandbox examples.

Pure functions over plain dicts; nothing here touches the database or the network.

    load_spec(bytes | str) -> dict              loader.py      (SpecUnparsable with line/column)
    spec_kind(doc) / validate_spec(doc)         validate.py    (every Finding, JSON Pointer located)
    normalize(doc) -> dict                      normalize.py   (version-agnostic; see its docstring)
    sandbox_response(normalized operation)      examples.py
    diff_specs(old, new) -> list[Change]        diff.py        (breaking rules in its docstring)
"""

from registry.specs.diff import Change, diff_specs, summarize
from registry.specs.examples import sandbox_response, schema_example
from registry.specs.loader import dump_json, dump_yaml, load_spec
from registry.specs.normalize import normalize
from registry.specs.validate import SpecKind, spec_kind, validate_spec

__all__ = [
    "Change",
    "SpecKind",
    "diff_specs",
    "dump_json",
    "dump_yaml",
    "load_spec",
    "normalize",
    "sandbox_response",
    "schema_example",
    "spec_kind",
    "summarize",
    "validate_spec",
]
