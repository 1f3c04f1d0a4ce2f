"""Identifiers minted for every request: request ids and X-Ray trace ids.

They must be unique, not secret, so they come from the process's Mersenne Twister (`random`, seeded from
the OS at start and reseeded in a forked child) rather than from a `getrandom` call each, as
`uuid.uuid4()` and `os.urandom` make: a warm invocation mints three of them.
"""

from __future__ import annotations

import time
from random import getrandbits

_VARIANT = "89ab"  # RFC 4122: the variant bits 10xx


def request_id() -> str:
    """A random (version 4) UUID, formatted as `str(uuid.uuid4())`."""
    h = f"{getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def trace_root() -> str:
    """A new X-Ray trace id: `Root=1-<epoch seconds, hex>-<96 random bits, hex>`."""
    return f"Root=1-{int(time.time()):08x}-{getrandbits(96):024x}"


def trace_id() -> str:
    """An X-Ray trace header for a new (unsampled) invocation: a new root, a parent, not sampled."""
    return f"{trace_root()};Parent={getrandbits(64):016x};Sampled=0"
