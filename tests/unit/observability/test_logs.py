from __future__ import annotations

import re

from lambdabox.observability import logs


def test_report_line_shape() -> None:
    line = logs.report_line("id-1", 3.011, 128, 40, 120.456)
    assert line == (
        "REPORT RequestId: id-1\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 120.46 ms\t\n"
    )
    assert logs.report_line("id-2", 0.2, 256, 30, None, "timeout").endswith("Status: timeout\t\n")


def test_start_end_and_timeout_lines() -> None:
    assert logs.start_line("id", "$LATEST") == "START RequestId: id Version: $LATEST\n"
    assert logs.end_line("id") == "END RequestId: id\n"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z id Task timed out after 1\.00 seconds\n",
        logs.timeout_line("id", 1),
    )


def test_stream_names() -> None:
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", logs.stream_name("$LATEST"))
    assert logs.billed_ms(0.01) == 1
