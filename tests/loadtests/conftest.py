"""The forwarder's test reuses the gateway's integration harness: its real aiohttp upstream is imported
here rather than copied."""

from tests.gateway.integration.conftest import upstream

__all__ = ["upstream"]
