"""`python -m gateway --port 8000 --snapshot FILE`: the same as `agora gateway`."""

import typer

from gateway.cli import gateway

typer.run(gateway)
