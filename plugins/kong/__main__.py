"""`python -m plugins.kong agora-<name> ...`: the same as the `agora-kong-plugin` command."""

from plugins.kong.server import main

main()
