"""What the portal says about a version's personal data (`x-agora-personal-data`), as plain data.

Pages show it on the API page (categories, legal bases, what access needs) and on each operation
that returns it (what, and how the person is identified). Values are the agency's text: templates
print them through the Markdown environment's escaping like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.specs.personal_data import Subject, personal_data

__all__ = ["identifier_label", "personal_data_view", "retention_label"]

_LABELS = {"path": "path parameter", "query": "query parameter", "header": "header", "jwt-claim": "claim"}


def identifier_label(subject: Subject) -> str:
    """How the sentence names where the identifier is: "path parameter", "header", "claim"..."""
    return _LABELS.get(subject.source, subject.source)


def retention_label(days: int) -> str:
    years, rest = divmod(days, 365)
    if years and not rest:
        return f"{days} days ({years} year{'s' if years > 1 else ''})"
    return f"{days} day{'s' if days != 1 else ''}"


def personal_data_view(normalized: Mapping[str, Any]) -> dict[str, Any] | None:
    """`{categories, legal_bases: [{id, title, retention}], operations: {operation_id: {method, path,
    categories, source, label, name}}}`, or None when the version declares no personal data."""
    declared = personal_data(normalized)
    if declared is None:
        return None
    routes = {op["operation_id"]: op for op in normalized.get("operations", [])}
    operations = {}
    for operation_id, data in sorted(declared.operations.items()):
        op = routes.get(operation_id, {})
        operations[operation_id] = {
            "method": op.get("method", ""),
            "path": op.get("path", ""),
            "categories": list(data.categories),
            "source": data.subject.source,
            "label": identifier_label(data.subject),
            "name": data.subject.name,
        }
    return {
        "categories": list(declared.categories),
        "legal_bases": [
            {"id": b.id, "title": b.title, "retention": retention_label(b.retention_days)}
            for b in declared.legal_bases
        ],
        "operations": operations,
    }
