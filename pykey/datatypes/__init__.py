"""Pure data structures with no server knowledge."""
