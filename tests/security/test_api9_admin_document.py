"""API9:2023 Improper Inventory Management, for the control plane: the admin API is exactly what its own
OpenAPI document (registry/admin/openapi.yaml) says. schemathesis generates calls for every documented
operation (a platform-admin token; a few examples each, so it runs in well under a minute) and checks
that no answer is a 5xx and that every answer's status, content type, headers and body conform to the
document. The gateway's side (retired versions, undeclared operations) is test_api9_inventory.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.registry.admin.conftest import World

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_admin_api_conforms_to_its_document(world: World) -> None:
    loaded = schemathesis.openapi.from_asgi("/admin/openapi.json", world.client.app)
    failures: list[str] = []
    operations = 0
    for result in loaded.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=30,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers=world.platform, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all reported together
            failures.append(f"{operation.label}: {exc}")
    assert operations == len(loaded.raw_schema["paths"]) or operations > 20
    assert not failures, "\n\n".join(failures)
