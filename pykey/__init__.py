"""pykey: a Valkey-compatible in-memory data store, written in Python."""
__version__ = "0.1.0"
REDIS_VERSION = "7.2.4"          # what INFO and (with extended-redis-compatibility) HELLO report
VALKEY_VERSION = "8.0.1"         # the Valkey release whose behaviour pykey follows
