"""The developer portal: where third-party developers find an API, understand it, get access and
make a first call without writing to anyone.

    devportal/build/   `agora portal build`: registry -> Markdown (Jinja2) -> mkdocs-material site,
                       incremental (only pages whose inputs changed are rewritten)
    devportal/web/     `agora portal serve` (port 8002): the built site plus account pages (sign-up,
                       applications and keys, access requests, usage) and the agency console
    devportal/cli.py   the `agora portal` commands
"""
