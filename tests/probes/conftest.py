"""Fixtures for the probe tests; they live in :mod:`pdt_netns` (a unique module name, so test files
can import its helpers without colliding with other directories' ``conftest`` modules)."""

from pdt_netns import dns_server, netpair, registry, tls_material

__all__ = ["dns_server", "netpair", "registry", "tls_material"]
