"""Check a spec against its OpenAPI/Swagger version with openapi-spec-validator, reporting every finding.

Two passes, as in the library: the document against the version's JSON Schema (the structure), then
the library's visitors (each Schema object against its dialect, defaults against their schema,
duplicate parameters and operation ids, unresolved path parameters). Visitor errors carry no path, so
each visitor is wrapped to stamp the errors it raises with where it was looking; that path follows
`$ref`s and is turned back into the place in the file (`pointer.real_pointer`).

Beyond the library's own report: a Schema object's dialect errors are all listed (the library
stops at the first), a `oneOf`/`anyOf` failure is replaced by the errors inside the alternative the
author meant (`_leaves`), and a dialect error already reported by the structure pass at the same
place is dropped. Rules: `structure`, `schema`, `default`, `duplicate-parameter`,
`duplicate-operation-id`, `unresolved-path-parameter`, `undefined-required-property`,
`duplicate-tag`, `version`, `validator` (the library crashed on a document it found no fault in).

We call the two passes ourselves instead of `SpecValidator.iter_errors`, which is wrapped in an
unbounded `lru_cache` keyed on the validator: every validated document would stay in memory for the
life of the registry process. The hooks used here (`keyword_validators`, `_validate_schema_meta`,
`_get_schema_checker`, `openapi_schema_validator._specifications`) are those of the pinned 0.9.0.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import suppress
from functools import partial
from typing import Any, Literal

import jsonschema_rs
from jsonschema.exceptions import ValidationError, relevance
from jsonschema.validators import validator_for
from jsonschema_path import SchemaPath
from openapi_schema_validator._specifications import REGISTRY as OPENAPI_DIALECTS
from openapi_spec_validator import (
    OpenAPIV2SpecValidator,
    OpenAPIV30SpecValidator,
    OpenAPIV31SpecValidator,
)

from agora.errors import Finding, SpecInvalid
from registry.specs.pointer import join, lookup, real_pointer

__all__ = ["SpecKind", "spec_kind", "validate_spec"]

# Findings are located by the jsonschema backend's errors. openapi-spec-validator switches to jsonschema-rs
# (other errors, other locations) whenever that package is installed, as schemathesis installs it: the
# registry must report the same findings whatever else is installed, so it says which backend it uses.
os.environ.setdefault("OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND", "jsonschema")

SpecKind = Literal["swagger-2.0", "openapi-3.0", "openapi-3.1"]

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\S*)?")
_AT = "agora_at"  # attribute stamped on a visitor error: (keyword, path parts it was raised at)
_ALL = "agora_all"  # attribute holding every meta-schema error of a Schema object

# Rule names for the library's own exception classes (by name: they are not exported publicly).
_RULES = {
    "ExtraParametersError": "undefined-required-property",
    "ParameterDuplicateError": "duplicate-parameter",
    "UnresolvableParameterError": "unresolved-path-parameter",
    "DuplicateOperationIDError": "duplicate-operation-id",
}
_KEYWORD_RULES = {"schema": "schema", "default": "default", "tags": "duplicate-tag"}


def spec_kind(doc: dict[str, Any]) -> SpecKind:
    """Which OpenAPI generation `doc` claims to be; `SpecInvalid` when it is missing or unsupported."""
    if "swagger" in doc:
        if doc["swagger"] == "2.0":
            return "swagger-2.0"
        raise SpecInvalid([Finding("/swagger", f"unsupported Swagger version {doc['swagger']!r}", "version")])
    version = doc.get("openapi")
    if version is None:
        raise SpecInvalid([Finding("/openapi", "missing 'openapi' (or 'swagger') version field", "version")])
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is not None and match.group(1) == "3" and match.group(2) in ("0", "1"):
        return "openapi-3.0" if match.group(2) == "0" else "openapi-3.1"
    raise SpecInvalid([Finding("/openapi", f"unsupported OpenAPI version {version!r}", "version")])


def validate_spec(doc: dict[str, Any]) -> list[Finding]:
    """Every finding in `doc`, deduplicated and sorted by (location, message)."""
    try:
        kind = spec_kind(doc)
    except SpecInvalid as exc:
        return exc.findings
    validator = _VALIDATORS[kind](doc)
    structure: set[Finding] = set()
    if not _structure_is_valid(kind, validator.schema_validator.schema, doc):
        for error in validator.schema_validator.iter_errors(doc):
            structure.update(_structure_findings(doc, error))
    visitors: set[Finding] = set()
    try:
        for error in validator.root_validator(validator.schema_path):
            visitors.update(_visitor_findings(doc, error))
    except Exception as exc:
        # The visitors assume a structurally valid document (they index `parameter["name"]`...);
        # when the structure pass already explains the defect, a visitor crash adds nothing.
        if not structure:
            visitors.add(Finding("", f"validation stopped early: {type(exc).__name__}: {exc}", "validator"))
    # The document's JSON Schema already checks Schema objects (with a slightly different vocabulary,
    # e.g. no "null" type in 3.0): one defect seen through both would otherwise be reported twice.
    seen = {finding.location for finding in structure}
    findings = structure | {f for f in visitors if not (f.rule == "schema" and f.location in seen)}
    return sorted(findings, key=lambda f: (f.location, f.message, f.rule))


_FAST: dict[SpecKind, Any] = {}


def _structure_is_valid(kind: SpecKind, schema: Any, doc: dict[str, Any]) -> bool:
    """The structure pass's verdict from jsonschema-rs (a hundred times faster on a large spec); only a
    document it finds fault in goes through the Python pass, whose errors the findings are made of.
    Anything jsonschema-rs cannot do means "not known valid": the Python pass then decides."""
    try:
        fast = _FAST.get(kind)
        if fast is None:
            plain = json.loads(json.dumps(dict(schema)))  # the library hands a lazy proxy
            fast = _FAST[kind] = jsonschema_rs.validator_for(plain, validate_formats=False)
        return bool(fast.is_valid(doc))
    except Exception:
        return False


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The specific errors behind `error`, like `jsonschema.exceptions.best_match` but keeping them all.

    A `oneOf`/`anyOf` failure holds one group of errors per alternative; the alternative that got
    furthest is the one the author meant, and every error in it is a separate defect (two bad
    properties of one schema). When two alternatives fail equally, `error` itself is the best we
    can say.
    """
    if not error.context:
        return [error]
    ranked = sorted(error.context, key=relevance)
    best = ranked[0]
    ties = [other for other in ranked[1:] if relevance(other) == relevance(best)]
    if any(_branch(other) != _branch(best) for other in ties):
        return [error]
    return [leaf for child in error.context if _branch(child) == _branch(best) for leaf in _leaves(child)]


def _branch(error: ValidationError) -> object:
    return error.relative_schema_path[0] if error.relative_schema_path else None


def _structure_findings(doc: dict[str, Any], error: ValidationError) -> Iterator[Finding]:
    for leaf in _leaves(error):
        parts: list[object] = list(leaf.absolute_path)
        # jsonschema reports a bad key at its parent object; point at the key itself.
        key = leaf.instance if "propertyNames" in leaf.absolute_schema_path else None
        if isinstance(key, str) and isinstance(lookup(doc, join(parts)), dict):
            parts.append(key)
        yield Finding(join(parts), leaf.message, "structure")


def _visitor_findings(doc: dict[str, Any], error: ValidationError) -> Iterator[Finding]:
    keyword, parts = getattr(error, _AT, ("", ()))
    # A default is checked against the schema (or Swagger parameter) that holds it, so the error's own
    # path is relative to the default value.
    prefix = (*parts, "default") if keyword == "default" else parts
    rule = _RULES.get(type(error).__name__) or _KEYWORD_RULES.get(keyword, keyword or "validator")
    for leaf in _leaves(error):
        yield Finding(real_pointer(doc, (*prefix, *leaf.absolute_path)), leaf.message, rule)


def _meta_errors(checker: Any, schema_value: Any) -> list[ValidationError]:
    """Every error `checker` would find: it is a validator class's `check_schema`, which raises the first.

    Built the way `openapi_schema_validator.validators.check_openapi_schema` builds its meta-validator
    (same class, format checker and registry of OpenAPI dialects), iterated instead of raised.
    """
    func, format_checker = (
        (checker.func, checker.keywords.get("format_checker"))
        if isinstance(checker, partial)
        else (checker, None)
    )
    owner = getattr(func, "__self__", None)
    meta_schema = getattr(owner, "META_SCHEMA", None)
    if owner is None or meta_schema is None:
        return []
    try:
        meta_cls = validator_for(meta_schema, default=owner)
        meta = meta_cls(
            meta_schema,
            format_checker=format_checker or owner.FORMAT_CHECKER,
            registry=OPENAPI_DIALECTS,
        )
        return list(meta.iter_errors(schema_value))
    except Exception:
        # Only a refinement: if the library's internals moved, its first error still stands.
        return []


def _stamping(keyword: str, base: type[Any]) -> type[Any]:
    """`base` (a keyword visitor class) whose errors remember the keyword and the path being visited."""

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[ValidationError]:
        at = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
        for error in base.__call__(self, *args, **kwargs):
            for each in getattr(error, _ALL, None) or [error]:
                if at is not None and not hasattr(each, _AT):
                    setattr(each, _AT, (keyword, tuple(at.parts)))
                yield each

    def _validate_schema_meta(self: Any, schema: SchemaPath, schema_value: Any) -> Any:
        # A large spec repeats the same few Schema objects thousands of times (`{"type": "string"}`,
        # one `$ref`): each distinct one is checked against the dialect once per document (its
        # validity depends on its value and the document's dialect only).
        try:
            text = json.dumps(schema_value, sort_keys=True)
        except (TypeError, ValueError):
            text = None
        good: set[str] = self.__dict__.setdefault("agora_good_schemas", set())
        if text is not None and text in good:
            return None
        # The library stops at the first dialect error of a Schema object; an author fixing a spec
        # wants them all at once (e.g. two properties sharing one bad regex).
        first = base._validate_schema_meta(self, schema, schema_value)
        if first is None and text is not None:
            good.add(text)
        if first is not None:
            with suppress(ValueError):  # an unknown dialect: `first` already says so
                checker = self._get_schema_checker(schema, schema_value)
                setattr(first, _ALL, _meta_errors(checker, schema_value))
        return first

    members: dict[str, Any] = {"__call__": __call__}
    if hasattr(base, "_validate_schema_meta"):
        members["_validate_schema_meta"] = _validate_schema_meta
    return type(f"Stamping{base.__name__}", (base,), members)


def _stamping_validator(base: type[Any]) -> type[Any]:
    keywords = {name: _stamping(name, cls) for name, cls in base.keyword_validators.items()}
    return type(f"Stamping{base.__name__}", (base,), {"keyword_validators": keywords})


_VALIDATORS: dict[SpecKind, type[Any]] = {
    "swagger-2.0": _stamping_validator(OpenAPIV2SpecValidator),
    "openapi-3.0": _stamping_validator(OpenAPIV30SpecValidator),
    "openapi-3.1": _stamping_validator(OpenAPIV31SpecValidator),
}
