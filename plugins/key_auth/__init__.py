"""The `key-auth` plugin: Kong's API-key authentication over Agora's HMAC-digested keys."""
