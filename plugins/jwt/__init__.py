"""The `jwt` plugin: bearer tokens (JWT access tokens of OpenID Providers) checked with the issuers' JWKS."""
