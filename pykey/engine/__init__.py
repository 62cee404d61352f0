"""The server's state and the single entry point every command runs through."""
