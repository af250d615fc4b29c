"""Config fields of `jwt`. Descriptions are shown on the portal's reference pages (docs/plugins-auth.md).

An agency enables it in its spec's `x-agora-plugins` (document or operation level), e.g.
`{"name": "jwt", "config": {"issuers": [{"issuer": "https://id.example", "audiences": ["https://api"]}]}}`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ALGORITHMS", "Schema"]

# Asymmetric signatures only: a JWKS publishes public keys, and a shared-secret algorithm (HS256)
# checked against a public key is the classic algorithm-confusion hole.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

Schema: tuple[dict[str, Any], ...] = (
    {
        "issuers": {
            "type": "array",
            "required": True,
            # The gateway fetches `{issuer}/.well-known/openid-configuration` and `jwks_uri`: both go
            # through the upstreams' address check at publication (registry/plugin_policy.py).
            "url_keys": ("issuer", "jwks_uri"),
            "description": "The OpenID Providers whose tokens are accepted: a list of `{issuer, jwks_uri, "
            "audiences}`. `issuer` must equal the token's `iss`; `jwks_uri` is optional (default: the "
            "`jwks_uri` of `{issuer}/.well-known/openid-configuration`); `audiences` lists the `aud` "
            "values accepted (at least one; the token needs one of them).",
        }
    },
    {
        "algorithms": {
            "type": "array",
            "default": ["RS256", "ES256"],
            "description": "Signature algorithms accepted (`alg` of the token header), among "
            + ", ".join(ALGORITHMS)
            + ".",
        }
    },
    {
        "leeway": {
            "type": "integer",
            "default": 30,
            "description": "Seconds of clock skew tolerated when checking `exp`, `nbf` and `iat`.",
        }
    },
    {
        "scopes_claim": {
            "type": "string",
            "default": "scope",
            "one_of": ["scope", "scp"],
            "description": "The claim holding the token's scopes: `scope` (space-separated string, RFC 9068) "
            "or `scp` (a list). Either claim may use either form.",
        }
    },
    {
        "required_scopes": {
            "type": "array",
            "default": [],
            "description": "Scopes every token must hold on these routes, on top of those the spec's "
            "security requirements ask for (the route's `scopes` in the snapshot).",
        }
    },
    {
        "claims_to_headers": {
            "type": "map",
            "default": {},
            "description": 'Claim name -> upstream request header, e.g. `{"sub": "X-User-Sub"}`. '
            "A client's own copy of such a header is never passed on; lists are sent "
            "space-separated, objects as JSON.",
        }
    },
    {
        "consumer_claim": {
            "type": "string",
            "default": None,
            "description": "A claim naming the calling application (an Agora application id, or its name), "
            "e.g. `client_id`. When set, the token must name a known application, which becomes the "
            "consumer (plans, grants, metering); unset, callers stay anonymous.",
        }
    },
    {
        "jwks_cache_ttl": {
            "type": "integer",
            "default": 300,
            "description": "Seconds an issuer's keys (and its discovered `jwks_uri`) are kept before "
            "refetching them.",
        }
    },
    {
        "jwks_refetch_interval": {
            "type": "integer",
            "default": 30,
            "description": "A token signed with an unknown `kid` refetches the issuer's keys (key "
            "rotation), at most once per this many seconds per issuer, so forged `kid`s "
            "cannot cause a fetch storm.",
        }
    },
    {
        "realm": {
            "type": "string",
            "default": "agora",
            "description": "The `realm` of the `WWW-Authenticate: Bearer` challenge in refusals.",
        }
    },
    {
        "run_on_preflight": {
            "type": "boolean",
            "default": True,
            "description": "Also require a token on CORS preflight (`OPTIONS`) requests.",
        }
    },
)
