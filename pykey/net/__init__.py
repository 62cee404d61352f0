"""Listeners and connections: asyncio (uvloop when installed)."""
