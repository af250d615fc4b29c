"""Agora's plugins inside Kong Gateway: one kong-pdk plugin server per plugin (docs/kong-plugins.md).

    server.py     `agora-kong-plugin agora-<name>`: --dump, or serve the plugin on a Unix socket
    adapter.py    the Agora plugin class as kong-pdk serves it; every exception becomes a 500 problem
    pdk.py        the `kong` object Agora's plugins expect, over Kong's real PDK (RPC calls)
    schema.py     Agora schemas in Kong's schema language, Kong's config back to Agora's
    snapshot.py   the snapshot file behind `kong.agora.*`, consumers, services and routes
    serialize.py  Kong's log serializer entry as the gateway's request facts
    loop.py       one event loop per server for plugins' async phases

This package has no `handler.py`: the gateway's plugin discovery skips it. Nothing here is imported
by the gateway; kong-pdk (and gevent) load only in a plugin server process.
"""

__all__: list[str] = []
