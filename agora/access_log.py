"""Access logs without query strings.

A query string may carry a secret: a portal verification link's token, an API key a client put in the
URL. Logs are kept longer and read by more people than the secret should be, so uvicorn's access log
(the admin API's and the portal's; the gateway writes none) shows each path with its query cut off.
"""

from __future__ import annotations

import logging

__all__ = ["DropQueryStrings", "drop_query_strings"]


class DropQueryStrings(logging.Filter):
    """uvicorn logs `(client, method, path with query, http version, status)`; the query goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?[redacted]", args[3], args[4])
        return True


def drop_query_strings(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
        logger.addFilter(DropQueryStrings())
