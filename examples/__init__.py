"""Example agencies, their OpenAPI specs and small working upstream services.

`make run` seeds the registry from `examples.catalog.EXAMPLES` and starts the upstreams with
`python -m examples.upstreams.serve`, so a fresh checkout has three real APIs to browse and call.
"""

__all__: list[str] = []
