"""The `cors` plugin: cross-origin requests and preflights, with Kong's cors fields."""
