"""Agora: shared pieces of the platform (settings, the error tree, the command line)."""
