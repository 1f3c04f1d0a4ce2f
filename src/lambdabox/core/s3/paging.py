"""Listing pages with S3's delimiter roll-up, for any ordered rows keyed by an object key: versions
(ListObjectVersions) and multipart uploads (ListMultipartUploads). ListObjects has its own, simpler
`listing.list_page`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from lambdabox.core.s3.listing import MAX_KEYS

T = TypeVar("T")
P = TypeVar("P")
_BEYOND = "\U0010ffff"  # sorts after every key continuing a given prefix


@dataclass(frozen=True)
class Rolled(Generic[T]):
    items: list[T]
    common_prefixes: list[str]
    truncated: bool
    last: T | str | None  # the page's last entry: an item, or a common prefix (str)


def roll_up(
    fetch: Callable[[P, int], Sequence[tuple[str, P, T]]],
    start: P,
    from_key: Callable[[str], P],
    prefix: str,
    delimiter: str | None,
    marker: str,
    max_items: int,
) -> Rolled[T]:
    """Rows after `start`, as `fetch(after, limit)` returns them ((key, position, item), in order, keys
    starting with `prefix`). With a delimiter, rows whose key contains it after the prefix are rolled
    up into one common prefix, which counts as one entry and is only listed when it sorts after
    `marker`; `from_key(k)` is the position just before the first row of key `k`."""
    items: list[T] = []
    prefixes: list[str] = []
    last: T | str | None = None
    if max_items <= 0:
        return Rolled(items, prefixes, False, last)
    position = start
    batch = min(max_items, MAX_KEYS) + 1
    while True:
        rows = fetch(position, batch)
        for key, row_position, item in rows:
            position = row_position
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    if common > marker:
                        if len(items) + len(prefixes) == max_items:
                            return Rolled(items, prefixes, True, last)
                        prefixes.append(common)
                        last = common
                    position = from_key(common + _BEYOND)
                    break  # continue after everything under this prefix
            if len(items) + len(prefixes) == max_items:
                return Rolled(items, prefixes, True, last)
            items.append(item)
            last = item
        else:
            if len(rows) < batch:
                return Rolled(items, prefixes, False, last)
