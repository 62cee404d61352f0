"""Databases: keys, expiry, scanning, and the signals every write goes through."""
