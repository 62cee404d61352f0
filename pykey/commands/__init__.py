"""One module per command group; importing this package registers every command."""
from . import bitmap, client, connection, hash, keys, list, server, set, string  # noqa: F401
