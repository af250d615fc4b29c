"""The admin API: a Starlette JSON API on port 8001, described by registry/admin/openapi.yaml."""
