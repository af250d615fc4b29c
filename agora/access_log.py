"""Access logs without query strings, and without what a relayed path carries.

A query string may carry a secret: a portal verification link's token, an API key a client put in the
URL. Logs are kept longer and read by more people than the secret should be, so uvicorn's access log
(the admin API's and the portal's; the gateway writes none) shows each path with its query cut off.

A path may carry a person's identifier: the portal relays its console's "Try it out" calls through
`/gateway/{agency}/{api}/v{major}/...` (devportal/web/relay.py), and an operation declaring personal
data may name its subject in the path (`/beneficiaries/{nir}/entitlements`). The portal's access log
keeps such a path up to the API's prefix only: `/gateway/benefits/entitlements/v1/[redacted]`.
"""

from __future__ import annotations

import logging
import re

__all__ = [
    "REDACTED",
    "DropQueryStrings",
    "RedactRelayedPaths",
    "drop_query_strings",
    "redact_relayed_path",
    "redact_relayed_paths",
]

REDACTED = "[redacted]"
# The gateway's API prefix, as the relay's first three segments: what stays readable in the log.
_API_PREFIX = re.compile(r"/[^/?]+/[^/?]+/v[0-9]+(?=[/?]|$)")


def _access_args(record: logging.LogRecord) -> tuple[object, ...] | None:
    """uvicorn logs `(client, method, path with query, http version, status)`."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
        return args
    return None


class DropQueryStrings(logging.Filter):
    """The query goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = _access_args(record)
        if args is not None and "?" in str(args[2]):
            record.args = (args[0], args[1], str(args[2]).split("?", 1)[0] + "?" + REDACTED, args[3], args[4])
        return True


def redact_relayed_path(path: str, prefix: str) -> str:
    """`path` (query included, if any) cut after `prefix` and the API's prefix when it is relayed
    through `prefix`; any other path unchanged."""
    if not (path == prefix or path.startswith((prefix + "/", prefix + "?"))):
        return path
    rest = path[len(prefix) :]
    api = _API_PREFIX.match(rest)
    kept = prefix + (api.group(0) if api else "")
    if len(path) == len(kept):
        return path
    return kept + ("?" if path[len(kept)] == "?" else "/") + REDACTED


class RedactRelayedPaths(logging.Filter):
    """Paths under `prefix` lose everything after the API's prefix (their query too)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        args = _access_args(record)
        if args is not None:
            path = redact_relayed_path(str(args[2]), self.prefix)
            if path != args[2]:
                record.args = (args[0], args[1], path, args[3], args[4])
        return True


def drop_query_strings(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
        logger.addFilter(DropQueryStrings())


def redact_relayed_paths(prefix: str, logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactRelayedPaths) and f.prefix == prefix for f in logger.filters):
        logger.addFilter(RedactRelayedPaths(prefix))
