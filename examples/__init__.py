"""Example agencies, their OpenAPI specs and small working upstream services.

`make run` seeds the registry from `examples.catalog.EXAMPLES` and starts the upstreams with
`python -m examples.upstreams.serve`, so a fresh checkout has four real APIs to browse and call, one of
them with personal data; `examples/identity/` is the demo identity federation its citizens sign in with.
"""

__all__: list[str] = []
