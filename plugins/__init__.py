"""Agora's gateway plugins, one folder each, in Kong's Python plugin shape (gateway/pipeline/plugin_host.py).

`plugins/<name_with_underscores>/handler.py` is the plugin `<name-with-dashes>`: `Plugin`, `Schema`,
`version`, `priority`. docs/plugins.md describes each one's fields and behaviour.
"""

__all__ = ["CTX_JWT_CLAIMS", "CTX_PLAN"]

# `kong.ctx.shared[CTX_PLAN]`: the slug of the plan that governs this request, for rate limiting.
# key-auth sets the application's own plan; access-control replaces it with the matched grant's plan.
CTX_PLAN = "agora.plan"

# `kong.ctx.shared[CTX_JWT_CLAIMS]`: the claims of the bearer token the jwt plugin verified (a dict), for
# the plugins after it (personal-data-log reads the data subject's identifier from a claim).
CTX_JWT_CLAIMS = "agora.jwt.claims"
