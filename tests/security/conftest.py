"""Attack tests, one module per OWASP API Security Top 10 (2023) item that applies (docs/security.md).

In-process tests build the admin or portal app they attack; edge tests start real gateway processes with
the gateway integration harness (its fixtures are imported, not copied) and speak raw HTTP to them."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.devportal.conftest import seeded
from tests.gateway.integration.conftest import start_gateway, upstream
from tests.registry.admin.conftest import world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway" / "integration"))

__all__ = [
    "seeded",
    "start_gateway",
    "upstream",
    "world",
]  # world: two agencies, a token per role (admin tests)
