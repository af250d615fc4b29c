"""`python -m agora` is the `agora` command."""

from agora.cli import main

main()
