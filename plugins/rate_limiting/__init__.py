"""The `rate-limiting` plugin: per-plan or configured limits, local or Redis counters, Kong's headers."""
