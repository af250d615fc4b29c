"""What the registry compiles: the gateway snapshot, and the Kong declarative export made from it."""
