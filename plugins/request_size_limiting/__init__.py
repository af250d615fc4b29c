"""The `request-size-limiting` plugin: a request body limit per API or operation, below the gateway's own."""
