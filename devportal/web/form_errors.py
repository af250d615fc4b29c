"""Form errors in the GOV.UK Design System's pattern: every error of a submission at once, each tied to
its field (the page's error summary links to the field, the field shows its message), and the page
shown again with what was typed.

`FormErrors` maps a field's id to one clear sentence; the templates' `forms.html` macros render it.
"""

from __future__ import annotations

from agora.errors import AgoraError

__all__ = ["GENERAL", "FormErrors", "sentence"]

GENERAL = ""  # an error of the whole form, not of one field: listed in the summary without a link


def sentence(detail: str) -> str:
    """A service's detail as a sentence: capital first letter, no trailing period."""
    text = detail.strip().rstrip(".")
    return text[:1].upper() + text[1:]


class FormErrors(dict[str, str]):
    """Field id -> message, in the order the fields appear (the summary lists them in that order)."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, sentence(message))

    def add_error(self, field: str, exc: AgoraError) -> None:
        self.add(field, exc.detail)
