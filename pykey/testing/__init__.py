"""Public test helpers: an embedded pykey server and pytest fixtures.

    from pykey.testing import EmbeddedServer
    with EmbeddedServer() as srv:
        r = redis.Redis(port=srv.port)
"""
from .embedded import EmbeddedServer

__all__ = ["EmbeddedServer"]
