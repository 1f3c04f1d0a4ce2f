"""Path-style and virtual-hosted-style S3 addressing.

`bucket.localhost:4566`, `bucket.s3.localhost:4566`, `bucket.s3.us-east-1.localhost:4566` and the same
under `amazonaws.com` or the platform's advertised host name name the bucket in the Host header; any
other host (an IP address, `localhost`, `s3.localhost`) means the bucket is the first path segment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

_SERVICE_LABELS = re.compile(r"(?:(?P<bucket>.+)\.)?s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?")
# Domains under which `<bucket>.<domain>` names a bucket; under amazonaws.com an `s3` label is needed.
DEFAULT_ROOTS = ("localhost", "localhost.localstack.cloud")
_SERVICE_ROOTS = ("amazonaws.com",)


class Addressing:
    def __init__(self, roots: Iterable[str] = DEFAULT_ROOTS) -> None:
        bare = {root.lower().strip(".") for root in roots if root and not _is_ip(root)}
        self._bare = frozenset(bare)
        self._roots = sorted(bare | set(_SERVICE_ROOTS), key=len, reverse=True)

    def bucket_of(self, host: str | None) -> str | None:
        """The bucket a virtual-hosted-style Host header names, or None for path-style requests."""
        if not host:
            return None
        name = _strip_port(host).lower().rstrip(".")
        if _is_ip(name):
            return None
        for root in self._roots:
            if name == root or not name.endswith("." + root):
                continue
            rest = name[: -len(root) - 1]
            match = _SERVICE_LABELS.fullmatch(rest)
            if match is not None:
                return match.group("bucket")
            return rest if root in self._bare else None
        return None

    def is_s3_host(self, host: str | None) -> bool:
        if not host:
            return False
        name = _strip_port(host).lower().rstrip(".")
        return self.bucket_of(host) is not None or any(
            name.endswith("." + root) and _SERVICE_LABELS.fullmatch(name[: -len(root) - 1]) is not None
            for root in self._roots
        )


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
