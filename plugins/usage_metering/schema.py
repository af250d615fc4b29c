"""Config fields of `usage-metering`. The registry emits `{}` for every API (registry/compile/plugins.py):
where records go is a property of the deployment (its environment), not of the API."""

from __future__ import annotations

from typing import Any

__all__ = ["Schema"]

Schema: tuple[dict[str, Any], ...] = (
    {
        "backend": {
            "type": "string",
            "default": None,
            "one_of": ["database", "http"],
            "operator_only": True,  # where records go is the deployment's choice (registry/plugin_policy.py)
            "description": "Where records go: `database` (the registry's `usage_records` table at "
            "AGORA_DATABASE_URL) or `http` (POSTed to the admin API's `/admin/usage/ingest`, for gateways "
            "without a database). Unset: `http` when AGORA_USAGE_INGEST_URL is set, else `database`.",
        }
    },
    {
        "http_endpoint": {
            "type": "string",
            "default": None,
            "url": True,
            # The gateway sends the platform-admin ingest token there: never an agency's choice.
            "operator_only": True,
            "description": "The ingest URL for the `http` backend; unset: AGORA_USAGE_INGEST_URL. The "
            "platform-admin token it needs comes from AGORA_USAGE_INGEST_TOKEN, never from this config.",
        }
    },
    {
        "flush_interval": {
            "type": "number",
            "default": 1.0,
            "description": "Seconds between writes of the pending records (more than 0). A crash loses at "
            "most the records of one interval.",
        }
    },
    {
        "batch_size": {
            "type": "integer",
            "default": 500,
            "description": "Records per write; this many pending records also trigger a write before "
            "the interval ends (at least 1). Larger batches cost less per record (one statement, one "
            "commit); at 500 a busy worker commits a few times a second.",
        }
    },
    {
        "max_pending": {
            "type": "integer",
            "default": 50000,
            "description": "Records kept while the store is unreachable; beyond this the oldest are "
            "dropped (and logged), so an outage cannot exhaust the gateway's memory.",
        }
    },
)
