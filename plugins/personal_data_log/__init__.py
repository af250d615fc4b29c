"""The `personal-data-log` plugin: one row per call of an operation that returns a person's data."""
