"""The `ip-restriction` plugin: allow and deny lists of addresses and CIDR networks (IPv4 and IPv6)."""
