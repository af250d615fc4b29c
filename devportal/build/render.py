"""Jinja2 environments for the portal's pages. In the Markdown environment every `{{ value }}` goes
through `escape.md_inline` (its `finalize`), so agency text is escaped unless a template says how to
show it otherwise (`|rich` for descriptions, `|h` inside raw HTML, `|code` inside code fences)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from devportal.build.escape import html_text, md_inline, rich_inline, rich_text

__all__ = ["code", "front_title", "html_environment", "json_code", "markdown_environment"]

MAX_CODE_CHARS = 6000  # a schema longer than this is cut; the full spec is one click away


def _finalize(value: Any) -> Any:
    return "" if value is None else md_inline(value)


def code(value: object) -> Markup:
    """Text for a ```` fenced block: the fence cannot be closed from inside."""
    return Markup(str(value).replace("````", "` ` ` `"))


def json_code(value: Any, limit: int = MAX_CODE_CHARS) -> Markup:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit].rsplit("\n", 1)[0] + "\n… (cut here: download the spec for the whole schema)"
    return code(text)


def _indent(value: Any, width: int = 4) -> Markup:
    value = value if isinstance(value, Markup) else md_inline(value)
    pad = " " * width
    return Markup("\n".join(pad + line if line else line for line in str(value).split("\n")))


def front_title(value: object) -> Markup:
    """A page title in the front matter: a JSON string (valid YAML whatever it holds), HTML-escaped
    because mkdocs' theme templates print titles without escaping."""
    return Markup(json.dumps(str(html_text(" ".join(str(value).split())))))


def _common(env: Environment) -> Environment:
    env.filters.update(
        h=html_text,
        rich=rich_text,
        rich_inline=rich_inline,
        code=code,
        json_code=json_code,
        indent_md=_indent,
        front_title=front_title,
    )
    return env


@cache
def markdown_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("devportal.build", "templates"),
        autoescape=False,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return _common(env)


@cache
def html_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("devportal.build", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    return _common(env)
