"""Usage analytics: raw `usage_records` rolled up per minute, hour and day (rollup.py), read back for the
admin API, the dashboard and the public figures (queries.py, uptime.py), and pruned (retention.py).

Every function takes a `Session`; the scheduler (scheduler.py) and `agora analytics` are the entry points
that open one.
"""
