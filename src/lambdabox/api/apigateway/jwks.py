"""Fetching an issuer's OpenID configuration and JWKS for JWT authorizers (HTTP GET of a JSON document,
in a worker thread so the event loop never waits on the network)."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import orjson

TIMEOUT = 5.0
MAX_DOCUMENT = 1024 * 1024


def _get(url: str) -> Any:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an HTTP(S) URL: {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return orjson.loads(response.read(MAX_DOCUMENT))


async def fetch_json(url: str) -> Any:
    return await asyncio.to_thread(_get, url)
