"""The `access-control` plugin: restricted APIs answer only applications holding an approved grant."""
