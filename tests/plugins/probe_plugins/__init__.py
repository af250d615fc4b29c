"""Plugins that only the plugins' end-to-end tests load (AGORA_GATEWAY_PLUGIN_PACKAGES), to observe
from outside what the real plugins leave for later ones."""
