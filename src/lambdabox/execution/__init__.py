"""Execution environments: their lifecycle, the pool that reuses them, and the sandboxes they run in."""
