"""Test-wide fixtures come from pykey.testing's pytest plugin (r, pykey_server, pykey_factory)."""
