"""Kong routes for snapshot operations: the regex path, its priority, and the upstream path rewrite.

Kong 3 regex paths start with `~` and are anchored at the start by the router (both the ATC router,
which turns `~/x` into `http.path ~ "^/x"`, and the traditional one). Each `{param}` becomes the named
capture `(?<param>VALUE+)` (decK's openapi2kong uses `[^/]+`; VALUE also refuses encoded separators),
and the whole operation path is captured again as `agora_path`:

    /cadastre/addresses/v1 + /addresses/{id}
    ~/cadastre/addresses/v1(?<agora_path>/addresses/(?<id>[^/]+))$

With a regex path Kong's `strip_path` strips the *whole* match (the ATC router keeps the matched
path as the prefix; the traditional one appends `(?<uri_postfix>.*)` after the regex), so it cannot
drop only `/{agency}/{api}/v{major}`. Routes therefore keep `strip_path: false` (openapi2kong's
default for regex routes) and a bundled `request-transformer` sets the upstream path with
`replace.uri`: a literal for static paths, `<base>$(uri_captures.agora_path)` for templated ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["CAPTURE_PATH", "RoutePath", "capture_names", "regex_priority", "route_path", "upstream_uri"]

CAPTURE_PATH = "agora_path"
_PARAM = re.compile(r"\{([^{}/]+)\}")
_REGEX_META = frozenset("\\.^$|?*+()[]{}")
_CAPTURE_MAX = 32  # PCRE's limit on group names; Rust's regex accepts these names too
# A segment's rank as Agora's gateway tries them (gateway/pipeline/routes.py): literal, whole-segment
# parameter, then text around parameters ("{name}.{ext}").
_LITERAL, _PARAMETER, _MIXED = 2, 1, 0
_RANKED_SEGMENTS = 19  # 3**19 - 1 fits Kong's 32-bit regex_priority field in the ATC router


@dataclass(frozen=True, slots=True)
class RoutePath:
    path: str  # the Kong route path, "~..." with every parameter a named capture
    captures: tuple[str, ...]  # a group name per parameter occurrence, in path order
    templated: bool
    priority: int


def _escape(text: str) -> str:
    # Kong compiles the regex with PCRE (traditional router) or Rust's regex (ATC router): escape
    # only metacharacters, as an unnecessary escape of a letter is an error in Rust's regex.
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


def capture_names(params: list[str]) -> list[str]:
    """A valid, unique group name per parameter occurrence: [A-Za-z_][A-Za-z0-9_]*, at most 32
    characters (the parameter's own name where it already is one)."""
    taken = {CAPTURE_PATH}
    names: list[str] = []
    for param in params:
        base = re.sub(r"\W", "_", param, flags=re.ASCII) or "param"
        if base[0].isdigit():
            base = "p_" + base
        base = base[:_CAPTURE_MAX]
        name, n = base, 1
        while name in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: _CAPTURE_MAX - len(suffix)] + suffix
        taken.add(name)
        names.append(name)
    return names


# A parameter's value: any character but '/', '\' and '%', or a percent-encoded byte other than %2F ('/')
# and %5C ('\'). Kong matches the path with reserved characters still encoded, so `[^/]+` would take
# `X%2Fofficers` as one value and the upstream, decoding it, would serve another operation, whose plugins
# never ran (the gateway refuses such paths with 400: gateway/pipeline/routing.py). No lookahead: the
# ATC router's Rust regex has none.
VALUE = r"(?:[^/%\\]|%[013-46-9a-fA-F][0-9a-fA-F]|%2[0-9a-eA-E]|%5[0-9abd-fABD-F])"


def _segment(text: str, captures: Iterator[str]) -> tuple[str, int]:
    pieces = _PARAM.split(text)  # literal, param, literal, param, ..., literal
    if len(pieces) == 1:
        return _escape(text), _LITERAL
    if len(pieces) == 3 and not pieces[0] and not pieces[2]:
        return f"(?<{next(captures)}>{VALUE}+)", _PARAMETER
    # Lazy like the gateway's "([^/]+?)": "{name}.{ext}" splits "a.b.c" as "a" + "b.c".
    regex = "".join(f"(?<{next(captures)}>{VALUE}+?)" if i % 2 else _escape(p) for i, p in enumerate(pieces))
    return regex, _MIXED


def regex_priority(ranks: list[int]) -> int:
    """Order routes the way the gateway's trie does: compare segments left to right, a literal
    beats a whole-segment parameter, which beats a segment mixing text and parameters.

    Only routes with the same number of segments can match the same path (no capture spans a `/`),
    so the base-3 number of the ranks orders every pair that can compete; a static path gets the
    highest priority of its length. Kong picks the highest `regex_priority` among matching routes.
    """
    priority = 0
    for rank in ranks[:_RANKED_SEGMENTS]:
        priority = priority * 3 + rank
    return priority


def route_path(prefix: str, template: str) -> RoutePath:
    captures = capture_names(_PARAM.findall(template))
    occurrences = iter(captures)
    parts, ranks = [], []
    for text in template.split("/")[1:]:
        regex, rank = _segment(text, occurrences)
        parts.append(regex)
        ranks.append(rank)
    body = "/" + "/".join(parts)
    return RoutePath(
        path=f"~{_escape(prefix)}(?<{CAPTURE_PATH}>{body})$",
        captures=tuple(captures),
        templated=bool(captures),
        priority=regex_priority(ranks),
    )


def upstream_uri(base_path: str, template: str, templated: bool) -> str:
    """`request-transformer`'s `replace.uri`: the upstream's base path plus the operation path.

    Static paths are a literal (no Lua needed); templated ones render the capture, which needs
    Kong's default `untrusted_lua = sandbox` for the template.
    """
    base = base_path.rstrip("/")
    if not templated:
        return base + template
    return f'{base}$(uri_captures["{CAPTURE_PATH}"])'
