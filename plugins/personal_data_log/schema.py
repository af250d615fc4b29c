"""Config fields of `personal-data-log`. The registry compiles the plugin onto exactly the routes whose
operation declares personal data (`x-agora-personal-data`, registry/compile/snapshot.py) with `subject`,
`categories` and `legal_bases` from that declaration; an agency cannot name it in `x-agora-plugins`
(`COMPILED_FROM`, registry/plugin_policy.py). Where rows go is the deployment's choice (its environment)."""

from __future__ import annotations

from typing import Any

__all__ = ["COMPILED_FROM", "DEFAULT_RETENTION_DAYS", "MAX_RETENTION_DAYS", "SOURCES", "Schema"]

# The declaration's vocabulary, kept here only: the registry's reader of the spec extension
# (registry/specs/personal_data.py) and its ingest (registry/services/personal_data.py) import it. This
# module imports nothing, so the gateway gets it without the spec package's OpenAPI validators.
COMPILED_FROM = "x-agora-personal-data"  # the spec extension
SOURCES = ("path", "query", "header", "jwt-claim")  # where a subject's identifier may be
DEFAULT_RETENTION_DAYS = 1825  # 5 years, the usual limitation period for a complaint
MAX_RETENTION_DAYS = 36500

Schema: tuple[dict[str, Any], ...] = (
    {
        "subject": {
            "type": "record",
            "required": True,
            "fields": (
                {
                    "in": {
                        "type": "string",
                        "required": True,
                        "one_of": list(SOURCES),
                        "description": "Where the identifier is: `path` (a path parameter), `query`, "
                        "`header`, or `jwt-claim` (a claim of the bearer token the jwt plugin verified).",
                    }
                },
                {
                    "name": {
                        "type": "string",
                        "required": True,
                        "description": "The parameter's, header's or claim's name.",
                    }
                },
            ),
            "description": "Where the data subject's identifier (e.g. a national identification number) is "
            "in a request. A call without it is not logged: there is nobody to show it to.",
        }
    },
    {
        "categories": {
            "type": "array",
            "required": True,
            "description": "The categories of personal data the operation returns, copied onto each row "
            "(what the person is shown).",
        }
    },
    {
        "legal_bases": {
            "type": "map",
            "default": {},
            "description": "The API's legal bases, id -> days a row is kept. A row is kept for the "
            "legal basis recorded on the caller's grant; without one, for the longest of these "
            f"(none declared: {DEFAULT_RETENTION_DAYS} days).",
        }
    },
    {
        "backend": {
            "type": "string",
            "default": None,
            "one_of": ["database", "http"],
            "operator_only": True,
            "description": "Where rows go: `database` (the registry's `personal_data_accesses` table at "
            "AGORA_DATABASE_URL) or `http` (POSTed to the admin API's `/admin/personal-data/ingest`). "
            "Unset: `http` when an ingest URL is known (http_endpoint, AGORA_PERSONAL_DATA_INGEST_URL, "
            "or AGORA_USAGE_INGEST_URL's sibling), else `database`.",
        }
    },
    {
        "http_endpoint": {
            "type": "string",
            "default": None,
            "url": True,
            "operator_only": True,
            "description": "The ingest URL for the `http` backend; unset: AGORA_PERSONAL_DATA_INGEST_URL, "
            "else AGORA_USAGE_INGEST_URL with `/admin/usage/ingest` replaced by "
            "`/admin/personal-data/ingest`. The token comes from AGORA_USAGE_INGEST_TOKEN.",
        }
    },
    {
        "flush_interval": {
            "type": "number",
            "default": 1.0,
            "description": "Seconds between writes of the pending rows (more than 0). A crash loses at most "
            "the rows of one interval.",
        }
    },
    {
        "batch_size": {
            "type": "integer",
            "default": 500,
            "description": "Rows per write; this many pending rows also trigger a write before the "
            "interval ends (at least 1).",
        }
    },
    {
        "max_pending": {
            "type": "integer",
            "default": 50000,
            "description": "Rows kept while the store is unreachable; beyond this the oldest are dropped "
            "(and logged), so an outage cannot exhaust the gateway's memory.",
        }
    },
)
