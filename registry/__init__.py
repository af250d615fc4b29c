"""The registry: agencies, APIs and their versions, plans, developers, credentials, grants, audit, usage."""
