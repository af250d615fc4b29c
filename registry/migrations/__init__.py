"""Alembic migrations of the registry. Run them with `agora db upgrade` (see registry/migrate.py)."""
