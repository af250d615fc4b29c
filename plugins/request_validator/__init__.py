"""The `request-validator` plugin: a request's parameters and body checked against its operation's schemas."""
