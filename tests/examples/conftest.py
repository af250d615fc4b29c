"""Shared set-up of the example upstream tests."""

from __future__ import annotations

import warnings

# starlette.testclient warns on import when it runs on httpx rather than httpx2 (not installed here),
# and the project turns warnings into errors. Import it once here, before any test module does.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    import starlette.testclient  # noqa: F401
