"""Logs and metrics every invocation produces."""
