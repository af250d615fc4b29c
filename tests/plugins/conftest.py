"""The plugins' end-to-end tests reuse the gateway's integration harness: its fixtures (a real aiohttp
upstream, real gateway processes started with the CLI) are imported here rather than copied."""

from tests.gateway.integration.conftest import start_gateway, upstream

__all__ = ["start_gateway", "upstream"]
