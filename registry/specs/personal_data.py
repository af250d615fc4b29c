"""Personal data declared in a spec (issue 16): `x-agora-personal-data`, read and checked.

An agency says which operations return data about a person, where that person's identifier is in the
request, what categories of data come back and on which legal bases the API may be used:

    x-agora-personal-data:                 # document level: the legal bases (required), and optionally
      legal-bases:                         # a subject and categories every operation inherits
        - id: public-task                  # a slug, chosen by a requester, kept on the grant
          title: Public task (GDPR art. 6(1)(e))
          retention-days: 1825             # how long an access is kept (default 5 years)
    paths:
      /beneficiaries/{nir}/entitlements:
        get:
          x-agora-personal-data:           # operation (or path item) level
            subject: {in: path, name: nir} # path | query | header (a declared parameter) | jwt-claim
                                           # (a claim of the token the operation's jwt plugin verifies)
            categories: [identity, family situation, entitlements]
        post:
          x-agora-personal-data: false     # opts an operation out of a document-level declaration

`personal_data(normalized)` is the lenient reader everything downstream uses (compile, grants, portal):
it skips what is malformed, since publication has refused it already. `personal_data_findings(doc,
normalized)` is the strict check publication runs: every defect with its JSON Pointer in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from agora.errors import Finding
from plugins.personal_data_log.schema import COMPILED_FROM as EXTENSION
from plugins.personal_data_log.schema import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, SOURCES
from registry.specs.normalize import HTTP_METHODS
from registry.specs.pointer import follow_refs, join

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "EXTENSION",
    "MAX_RETENTION_DAYS",
    "RULE",
    "SOURCES",
    "LegalBasis",
    "OperationData",
    "PersonalData",
    "Subject",
    "personal_data",
    "personal_data_findings",
]

RULE = "personal-data"
PLUGINS = "x-agora-plugins"
TOKEN_PLUGIN = "jwt"  # the plugin that verifies a bearer token and leaves its claims (plugins/jwt/)
_NONE: frozenset[str] = frozenset()
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DOC_KEYS = ("legal-bases", "subject", "categories")
_OP_KEYS = ("subject", "categories")
_BASIS_KEYS = ("id", "title", "retention-days")


class Operation(NamedTuple):
    """What a subject is checked against: the operation's label, its parameters, its plugins."""

    label: str  # "GET /path"
    parameters: list[dict[str, Any]]
    plugins: frozenset[str]


@dataclass(frozen=True, slots=True)
class LegalBasis:
    id: str
    title: str
    retention_days: int


@dataclass(frozen=True, slots=True)
class Subject:
    source: str  # one of SOURCES
    name: str  # the parameter's name, or the JWT claim's


@dataclass(frozen=True, slots=True)
class OperationData:
    subject: Subject
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonalData:
    legal_bases: tuple[LegalBasis, ...]
    operations: Mapping[str, OperationData]  # by normalized operation_id

    def legal_basis(self, basis_id: str) -> LegalBasis | None:
        return next((basis for basis in self.legal_bases if basis.id == basis_id), None)

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category any operation returns, sorted: what the API page lists."""
        return tuple(sorted({c for op in self.operations.values() for c in op.categories}))


def personal_data(normalized: Mapping[str, Any]) -> PersonalData | None:
    """What a normalized spec declares, or None when it declares no operation with personal data."""
    document = normalized.get("extensions", {}).get(EXTENSION)
    document = document if isinstance(document, dict) else {}
    operations: dict[str, OperationData] = {}
    for op in normalized.get("operations", []):
        # normalize() merges document, path item and operation extensions (the nearest wins).
        declared = op.get("extensions", {}).get(EXTENSION)
        if not isinstance(declared, dict):
            continue
        subject = _subject(declared.get("subject")) or _subject(document.get("subject"))
        categories = _categories(declared.get("categories")) or _categories(document.get("categories"))
        if subject is not None and categories:
            operations[op["operation_id"]] = OperationData(subject, categories)
    if not operations:
        return None
    bases = []
    for raw in document.get("legal-bases") or []:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and isinstance(raw.get("title"), str):
            days = raw.get("retention-days", DEFAULT_RETENTION_DAYS)
            bases.append(LegalBasis(raw["id"], raw["title"], days if _days(days) else DEFAULT_RETENTION_DAYS))
    return PersonalData(tuple(bases), operations)


def _subject(raw: Any) -> Subject | None:
    if (
        isinstance(raw, dict)
        and raw.get("in") in SOURCES
        and isinstance(raw.get("name"), str)
        and raw["name"]
    ):
        return Subject(raw["in"], raw["name"])
    return None


def _categories(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(dict.fromkeys(c.strip() for c in raw if isinstance(c, str) and c.strip()))


def _days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_RETENTION_DAYS


def personal_data_findings(doc: Mapping[str, Any], normalized: Mapping[str, Any]) -> list[Finding]:
    """Every defect of the declarations in `doc` (the file as written), located by JSON Pointer."""
    findings: list[Finding] = []
    root = doc.get(EXTENSION)
    if root is not None:
        if isinstance(root, dict):
            findings.extend(_check_document(root))
        else:
            findings.append(Finding(join([EXTENSION]), f"{EXTENSION} must be an object", RULE))
    root = root if isinstance(root, dict) else {}
    operations = {
        # normalize() spells methods in upper case; the document, as written, in lower case.
        (op["path"], str(op["method"]).lower()): op
        for op in normalized.get("operations", [])
    }
    plugins = _plugins(normalized)
    declared_anywhere = False
    for where, raw, path, method in _declarations(doc, root):
        if raw is False:
            continue
        if not isinstance(raw, dict):
            findings.append(Finding(join(where), f"{EXTENSION} must be an object or false", RULE))
            continue
        own = where != [EXTENSION]
        if own:
            findings.extend(_unknown_keys(raw, _OP_KEYS, where))
        subject = raw.get("subject", root.get("subject"))
        if subject is None:
            findings.append(
                Finding(join(where), "names no subject: say where the person's identifier is", RULE)
            )
            continue
        declared_anywhere = True
        subject_at: list[object] = [*where, "subject"] if "subject" in raw else [EXTENSION, "subject"]
        # A subject inherited from the path item or the document is checked against each operation
        # under it: the message names the operation, since the pointer cannot.
        at = (path, method)
        operation = Operation(
            f"{method.upper()} {path}", operations.get(at, {}).get("parameters", []), plugins.get(at, _NONE)
        )
        findings.extend(_check_subject(subject, subject_at, operation))
        if own and "categories" in raw:
            findings.extend(_check_categories(raw["categories"], [*where, "categories"]))
        elif not root.get("categories"):
            findings.append(Finding(join(where), "names no categories of data returned", RULE))
    if declared_anywhere and not root.get("legal-bases"):
        findings.append(
            Finding(
                join([EXTENSION, "legal-bases"]), "an API with personal data declares its legal bases", RULE
            )
        )
    return sorted(set(findings), key=lambda f: (f.location, f.message))


def _declarations(
    doc: Mapping[str, Any], root: dict[str, Any]
) -> Iterator[tuple[list[object], Any, str, str]]:
    """(pointer parts, value, path, method) of the declaration that applies to each operation: its own,
    else its path item's, else the document's when that names a subject (every operation inherits it)."""
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return
    for path, raw_item in paths.items():
        # A path item may be a local `$ref` (normalize() follows it): point where it really is.
        item, at = follow_refs(doc, raw_item, ["paths", str(path)])
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            if EXTENSION in op:
                yield [*at, method, EXTENSION], op[EXTENSION], str(path), method
            elif EXTENSION in item:
                yield [*at, EXTENSION], item[EXTENSION], str(path), method
            elif root.get("subject") is not None:
                yield [EXTENSION], root, str(path), method


def _check_document(root: dict[str, Any]) -> Iterator[Finding]:
    yield from _unknown_keys(root, _DOC_KEYS, [EXTENSION])
    bases = root.get("legal-bases")
    if bases is not None:
        at = [EXTENSION, "legal-bases"]
        if not isinstance(bases, list) or not bases:
            yield Finding(join(at), "legal-bases must be a non-empty list", RULE)
        else:
            seen: set[str] = set()
            for index, basis in enumerate(bases):
                yield from _check_basis(basis, [*at, index], seen)
    if "categories" in root:
        yield from _check_categories(root["categories"], [EXTENSION, "categories"])


def _check_basis(basis: Any, at: list[object], seen: set[str]) -> Iterator[Finding]:
    if not isinstance(basis, dict):
        yield Finding(join(at), "a legal basis is an object with an id and a title", RULE)
        return
    yield from _unknown_keys(basis, _BASIS_KEYS, at)
    basis_id = basis.get("id")
    if not isinstance(basis_id, str) or not _SLUG.match(basis_id):
        yield Finding(join([*at, "id"]), "id must be a slug (lower-case letters, digits, dashes)", RULE)
    elif basis_id in seen:
        yield Finding(join([*at, "id"]), f"legal basis {basis_id!r} is declared twice", RULE)
    else:
        seen.add(basis_id)
    title = basis.get("title")
    if not isinstance(title, str) or not title.strip():
        yield Finding(join([*at, "title"]), "title must be a non-empty string", RULE)
    if "retention-days" in basis and not _days(basis["retention-days"]):
        yield Finding(
            join([*at, "retention-days"]),
            f"retention-days must be a whole number from 1 to {MAX_RETENTION_DAYS}",
            RULE,
        )


def _plugins(normalized: Mapping[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """The names of the plugins each operation's route runs, as the snapshot compiles them
    (registry/compile/): the document's `x-agora-plugins` and the nearest of the path item's and the
    operation's (normalize() merges extensions, the nearest wins); no access level's defaults hold a
    token plugin."""
    # Here, not at the top: registry.plugin_policy, under the compiler's plugin lists, imports the specs
    # package (this module included).
    from registry.compile.plugins import merge_plugins, plugin_list

    document = plugin_list(normalized.get("extensions", {}).get(PLUGINS))
    return {
        (op["path"], str(op["method"]).lower()): frozenset(
            p["name"] for p in merge_plugins(document, plugin_list(op.get("extensions", {}).get(PLUGINS)))
        )
        for op in normalized.get("operations", [])
    }


def _check_subject(subject: Any, at: list[object], operation: Operation) -> Iterator[Finding]:
    label, parameters, plugins = operation
    if not isinstance(subject, dict):
        yield Finding(join(at), "subject is an object: {in, name}", RULE)
        return
    yield from _unknown_keys(subject, ("in", "name"), at)
    source, name = subject.get("in"), subject.get("name")
    if source not in SOURCES:
        yield Finding(join([*at, "in"]), f"in must be one of {', '.join(SOURCES)}", RULE)
    elif source == "jwt-claim" and TOKEN_PLUGIN not in plugins:
        # Without a verified token there is no claim to read: every call would go unrecorded.
        yield Finding(
            join([*at, "in"]),
            f"{label} runs no {TOKEN_PLUGIN} plugin (x-agora-plugins), so a jwt-claim subject could never "
            "be read and no call would be recorded",
            RULE,
        )
    if not isinstance(name, str) or not name:
        yield Finding(join([*at, "name"]), "name must be a non-empty string", RULE)
        return
    if source in ("path", "query", "header"):
        wanted = name.lower() if source == "header" else name
        names = {
            (p["name"].lower() if source == "header" else p["name"])
            for p in parameters
            if p.get("in") == source and isinstance(p.get("name"), str)
        }
        if wanted not in names:
            yield Finding(join([*at, "name"]), f"{label} has no {source} parameter {name!r}", RULE)


def _check_categories(categories: Any, at: list[object]) -> Iterator[Finding]:
    if not isinstance(categories, list) or not categories:
        yield Finding(join(at), "categories must be a non-empty list of strings", RULE)
        return
    for index, category in enumerate(categories):
        if not isinstance(category, str) or not category.strip():
            yield Finding(join([*at, index]), "a category is a non-empty string", RULE)


def _unknown_keys(node: dict[str, Any], known: tuple[str, ...], at: list[object]) -> Iterator[Finding]:
    for key in node:
        if key not in known:
            yield Finding(join([*at, key]), f"unknown field {key!r} (known: {', '.join(known)})", RULE)
