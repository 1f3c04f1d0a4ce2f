"""Listing keys as S3 does: prefix, delimiter roll-up into common prefixes, markers, page size."""

from __future__ import annotations

from dataclasses import dataclass

from lambdabox.core.s3.models import S3Object
from lambdabox.storage.interfaces import ObjectStore

MAX_KEYS = 1000
_BEYOND = "\U0010ffff"  # sorts after every key continuing a given prefix (in UTF-8 byte order)


@dataclass(frozen=True)
class Page:
    objects: list[S3Object]
    common_prefixes: list[str]
    truncated: bool

    @property
    def last(self) -> str | None:
        """The last key or common prefix of the page, whichever sorts later (S3's NextMarker)."""
        candidates = [*([self.objects[-1].key] if self.objects else []), *self.common_prefixes[-1:]]
        return max(candidates) if candidates else None

    @property
    def count(self) -> int:
        return len(self.objects) + len(self.common_prefixes)


def list_page(
    store: ObjectStore, bucket: str, prefix: str, delimiter: str | None, marker: str, max_keys: int
) -> Page:
    """Keys after `marker` (exclusive) that start with `prefix`; with a delimiter, keys that contain
    it after the prefix are rolled up into one common prefix, which counts as one entry and is only
    listed when it sorts after the marker."""
    objects: list[S3Object] = []
    prefixes: list[str] = []
    if max_keys <= 0:
        return Page(objects, prefixes, False)
    after = marker
    rolled_up: str | None = None
    batch = min(max_keys, MAX_KEYS) + 1
    while True:
        rows = store.list_objects(bucket, prefix, after, batch)
        for obj in rows:
            after = obj.key
            if rolled_up is not None and obj.key.startswith(rolled_up):
                continue
            if delimiter:
                cut = obj.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = obj.key[: cut + len(delimiter)]
                    if common > marker:
                        if len(objects) + len(prefixes) == max_keys:
                            return Page(objects, prefixes, True)
                        prefixes.append(common)
                    rolled_up = common
                    after = common + _BEYOND
                    break  # continue the listing after everything under this prefix
            if len(objects) + len(prefixes) == max_keys:
                return Page(objects, prefixes, True)
            objects.append(obj)
        else:
            if len(rows) < batch:
                return Page(objects, prefixes, False)
