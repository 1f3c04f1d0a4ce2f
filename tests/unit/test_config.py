"""Settings from LAMBDABOX_* variables."""

from __future__ import annotations

import pytest

from lambdabox.config import load_settings


def test_code_collection_interval() -> None:
    assert load_settings({}).code_gc_interval == 600.0
    assert load_settings({"LAMBDABOX_CODE_GC_INTERVAL": "2.5"}).code_gc_interval == 2.5
    for bad in ("0", "-1", "nan"):
        with pytest.raises(
            ValueError, match="LAMBDABOX_CODE_GC_INTERVAL must be a number of seconds above 0"
        ):
            load_settings({"LAMBDABOX_CODE_GC_INTERVAL": bad})
