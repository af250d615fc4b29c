"""The data subject's identifier in a query string or in headers: every value it is given, and whether
it is given once.

An upstream that finds a query argument or a header twice may read either, so a caller who sends
`?nir=AAA&nir=BBB` could be served BBB's data while the log names AAA; and the PDK's `get_query` stops
at the first 100 arguments, so `nir` after 100 others would be served and never found. On routes whose
subject is in the query or a header the plugin's access phase therefore refuses (400) a request that
gives the identifier more than once, or in a way it cannot read whole; the log phase reads the query
with the same function, over the whole query string.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote_plus

__all__ = ["ERR_ONCE", "MAX_HEADERS", "MAX_QUERY", "Once", "query_values"]

ERR_ONCE = "the data subject's identifier must be given once"
MAX_QUERY = 16 * 1024  # bytes of query string read; a longer one is refused (the URL limit is 8 KiB)
MAX_HEADERS = 1000  # header lines read (Kong's own ceiling for get_headers; the gateway accepts 100)
# Both separators: an upstream that also splits on ";" (older frameworks) must not find a second value
# this reading misses.
_SEPARATORS = re.compile(r"[&;]")


def query_values(raw: str, name: str) -> list[str]:
    """Every value of the argument `name` in the raw query string, in order: names and values
    percent-decoded (`+` a space), names compared ignoring case (some frameworks do), an argument
    without `=` an empty value."""
    wanted, values = name.lower(), []
    for part in _SEPARATORS.split(raw):
        key, _, value = part.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if key.lower() == wanted:
            values.append(unquote_plus(value) if "%" in value or "+" in value else value)
    return values


class Once:
    """The access phase of a route whose subject is the query argument or header `name`."""

    __slots__ = ("key", "name", "plain", "source")

    def __init__(self, source: str, name: str) -> None:
        self.source, self.name, self.key = source, name, name.lower()
        # A name needing no encoding that occurs at most once in a query without `%` is given at most
        # once: the common case, checked without splitting the query.
        self.plain = quote(name, safe="") == name

    def __call__(self, kong: Any) -> None:
        problem = self._query(kong) if self.source == "query" else self._header(kong)
        if problem is not None:
            kong.response.error(400, f"{ERR_ONCE}: {problem}")

    def _query(self, kong: Any) -> str | None:
        raw = kong.request.get_raw_query()
        if not raw or (self.plain and "%" not in raw and raw.lower().count(self.key) <= 1):
            return None
        if len(raw) > MAX_QUERY:
            return f"a query string over {MAX_QUERY} bytes is not read for query parameter {self.name!r}"
        given = len(query_values(raw, self.name))
        return f"query parameter {self.name!r} appears {given} times" if given > 1 else None

    def _header(self, kong: Any) -> str | None:
        headers = kong.request.get_headers(MAX_HEADERS)
        lines = sum(len(v) if isinstance(v, list) else 1 for v in headers.values())
        if lines >= MAX_HEADERS:
            return f"{MAX_HEADERS} header lines or more are not read for header {self.name!r}"
        value = headers.get(self.key)
        if isinstance(value, list):
            return f"header {self.name!r} appears {len(value)} times"
        # A recipient may join repeated header lines with commas (RFC 9110, 5.3): one line with a comma
        # is as ambiguous as two lines.
        if value is not None and "," in value:
            return f"header {self.name!r} holds a list of values"
        return None
