"""CSV as the platform writes it: every export (personal-data accesses, usage analytics, the open
transparency figures) goes through `csv_text`, so every cell goes through `safe_cell`.

A CSV is opened in spreadsheets, and some of its cells come from outside the platform's control (an
application's name and organisation, a grant's purpose, a request id, a version or application id a
caller sent): a cell that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return, even
after spaces) is prefixed with an apostrophe so that a spreadsheet shows it as text instead of running
it (CSV injection). A number the platform computed is written as it is: it cannot carry a formula, and
a negative one must stay a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["csv_text", "safe_cell"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """One cell's text: "" for None, a list's items joined by "; ", a formula-like text made inert."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    text = str(value)
    if text.startswith(_FORMULA_START) or text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header of `fields`, then each row's values in that order (a missing one empty), CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in fields])
    writer.writerows([safe_cell(row.get(name)) for name in fields] for row in rows)
    return out.getvalue()
