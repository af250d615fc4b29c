"""The `usage-metering` plugin: one usage record per request, batched off the request path."""
