"""Lenient readers for spec fields: a malformed field reads as empty instead of crashing.

Normalization must succeed on specs that fail validation (the registry shows both), so every field
is read through one of these rather than trusted to have the right type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_dict", "as_list", "strings", "text"]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""
