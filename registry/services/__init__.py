"""Registry operations. Each function takes a `Session` and leaves committing to its caller, so one
unit of work (a CLI command, an admin request) commits everything or nothing."""
