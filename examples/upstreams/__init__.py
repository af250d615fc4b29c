"""Upstream services of the example agencies: one tiny Starlette app per module, each with `create_app()`.

The gateway, not these services, checks API keys and grants: like a real agency backend behind Agora,
they trust whatever reaches them and only describe their data.
"""

__all__: list[str] = []
