"""pykey: a Valkey-compatible in-memory data store, written in Python."""
__version__ = "0.1.0"
REDIS_VERSION = "7.2.4"
