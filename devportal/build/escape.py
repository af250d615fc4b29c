"""Agency-provided text is untrusted: it reaches the portal only through these functions.

Three contexts, three functions:
- `md_inline`: a value placed in Markdown (a heading, a table cell, a sentence). HTML is escaped and
  every character Markdown (and its tables, attribute lists) would act on is backslash-escaped, so
  the value shows as typed and can never become a link, an attribute or a tag.
- `html_text`: a value placed in raw HTML that Markdown passes through untouched.
- `rich_inline`: a short description inside a line or a table cell (a parameter's, a response's): its
  inline CommonMark (code spans, emphasis, links) rendered like `rich_text`, on one line, `|` escaped.
- `rich_text`: a description, which agencies write in CommonMark. It is rendered by markdown-it with
  raw HTML disabled and its link validation (no `javascript:`/`data:` URLs), then passed to mkdocs as
  an HTML block that Python-Markdown does not process again.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["html_text", "md_inline", "rich_inline", "rich_text"]

# Python-Markdown's escapable characters plus `|` (tables); `<` and `&` become entities first. The
# portal enables no extension with other inline syntax (no tilde, mark, caret, snippets).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>])")
_WHITESPACE = re.compile(r"\s+")
_INLINE_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]|"})
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def md_inline(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    text = _WHITESPACE.sub(" ", str(value)).strip()
    escaped = html.escape(text, quote=False).replace("&gt;", ">")
    return Markup(_MD_SPECIAL.sub(r"\\\1", escaped))


def html_text(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def rich_text(value: object) -> Markup:
    source = str(value or "").strip()
    if not source:
        return Markup("")
    rendered = _markdown.render(source).strip()
    # A div at the start of a line makes Python-Markdown keep the block verbatim.
    return Markup(f'<div class="agency-text">\n{rendered}\n</div>')


def rich_inline(value: object) -> Markup:
    source = _WHITESPACE.sub(" ", str(value or "")).strip()
    if not source:
        return Markup("")
    rendered = _markdown.renderInline(source).strip()
    # Python-Markdown still reads the text between inline HTML tags: its syntax characters become
    # entities (the same characters once shown), and `|` would split a table cell.
    return Markup(f"<span>{rendered.translate(_INLINE_ENTITIES)}</span>")
