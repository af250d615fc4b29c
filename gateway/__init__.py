"""The data plane: serves every published API from the compiled snapshot (see docs/gateway.md)."""
