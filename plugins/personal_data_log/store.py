"""Where access rows go: usage metering's two stores (plugins/usage_metering/backends/), pointed at
`personal_data_accesses` or at `POST /admin/personal-data/ingest`.

    database    the registry's table at AGORA_DATABASE_URL, with the registry's own insert statement
    http        AGORA_PERSONAL_DATA_INGEST_URL, else the sibling of AGORA_USAGE_INGEST_URL (a gateway that
                posts its usage has no database: its accesses must not land in a local file instead)
"""

from __future__ import annotations

import os
from typing import cast

from sqlalchemy import Table

from agora.errors import InvalidInput
from plugins.personal_data_log.platform_settings import database_url
from plugins.usage_metering.backends import INGEST_TOKEN_ENV, UsageStore
from plugins.usage_metering.backends import INGEST_URL_ENV as USAGE_URL_ENV

__all__ = ["INGEST_PATH", "INGEST_URL_ENV", "make_store", "store_target"]

INGEST_URL_ENV = "AGORA_PERSONAL_DATA_INGEST_URL"
INGEST_PATH = "/admin/personal-data/ingest"
_USAGE_PATH = "/admin/usage/ingest"


def _beside_usage() -> str:
    usage = os.environ.get(USAGE_URL_ENV, "").rstrip("/")
    if not usage:
        return ""
    if not usage.endswith(_USAGE_PATH):
        raise InvalidInput(
            f"personal-data-log: {USAGE_URL_ENV} does not end in {_USAGE_PATH}, so the personal data "
            f"ingest cannot be found beside it: set {INGEST_URL_ENV}"
        )
    return usage.removesuffix(_USAGE_PATH) + INGEST_PATH


def store_target(backend: str | None, http_endpoint: str | None) -> tuple[str, str]:
    """(backend, where): the config's choice, else the deployment's environment."""
    endpoint = http_endpoint or os.environ.get(INGEST_URL_ENV) or _beside_usage()
    backend = backend or ("http" if endpoint else "database")
    if backend == "http":
        if not endpoint:
            raise InvalidInput(f"personal-data-log: the http backend needs http_endpoint or {INGEST_URL_ENV}")
        return backend, endpoint
    return backend, database_url()


def make_store(backend: str, where: str) -> UsageStore:
    if backend == "http":
        from plugins.usage_metering.backends.http import HttpStore

        return HttpStore(where, os.environ.get(INGEST_TOKEN_ENV, ""), kind="personal data")
    from plugins.usage_metering.backends.database import DatabaseStore, RowTable
    from registry.models import PersonalDataAccess
    from registry.services.personal_data import ACCESS_COLUMNS, accesses_insert

    table = RowTable(cast(Table, PersonalDataAccess.__table__), ACCESS_COLUMNS, accesses_insert)
    return DatabaseStore(where, table)
