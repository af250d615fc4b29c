"""The gateway's request handling, as plain calls: `entry.py` takes every request from the engine (request
id, control paths, routing, errors, metrics, usage), and hands a matched one to its route's pipeline
(`route.py`: plugins' phases, then a sandbox example or `forward.py`, the exchange with the upstream)."""
