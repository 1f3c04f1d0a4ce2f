"""The platform clock: wall-clock seconds since the epoch, shifted by an offset.

The offset starts at `LAMBDABOX_CLOCK_OFFSET` (0 unless set) and can be moved at run time with `set`, which
only the test hook does (`/_lambdabox/scheduler/tick`). Time-driven components take the clock rather than
calling `time.time()`, so a test can put the platform just before a due time instead of waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(self, offset: float = 0.0, source: Callable[[], float] = time.time) -> None:
        self._offset = offset
        self._source = source

    def now(self) -> float:
        return self._source() + self._offset

    def set(self, now: float) -> None:
        """Move the clock so that it reads `now` at this instant (forward or backward); it keeps running."""
        self._offset = now - self._source()
