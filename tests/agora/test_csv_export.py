"""agora/csv_export.py: the one CSV writer of the platform's exports, formula-safe in every cell."""

from __future__ import annotations

import csv
import io

import pytest

from agora.csv_export import csv_text, safe_cell

FORMULAS = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "  =1+1")


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_looks_like_a_formula_is_text(value: str) -> None:
    assert safe_cell(value) == "'" + value


def test_other_cells_are_written_as_they_are() -> None:
    assert safe_cell("Town hall") == "Town hall" and safe_cell("a-b") == "a-b"
    assert safe_cell(None) == "" and safe_cell(["a", "b"]) == "a; b" and safe_cell(["=a", "b"]) == "'=a; b"
    # A number the platform computed carries no formula; a negative one stays a number.
    assert safe_cell(-3) == "-3" and safe_cell(-0.25) == "-0.25" and safe_cell(12) == "12"


def test_every_cell_of_the_text_goes_through_the_guard() -> None:
    rows = [{"name": "=cmd|' /C calc'!A0", "calls": 3, "rate": None}, {"name": "plain", "calls": -1}]
    text = csv_text(["name", "calls", "rate"], rows)
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    assert list(csv.DictReader(io.StringIO(text))) == [
        {"name": "'=cmd|' /C calc'!A0", "calls": "3", "rate": ""},
        {"name": "plain", "calls": "-1", "rate": ""},  # a missing value is an empty cell
    ]
