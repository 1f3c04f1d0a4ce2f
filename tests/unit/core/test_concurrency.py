from __future__ import annotations

import pytest

from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.errors import AwsError


def test_reserved_functions_use_only_their_reservation() -> None:
    limiter = ConcurrencyLimiter(account_limit=10)
    limiter.set_reserved("a", 1)
    lease = limiter.acquire("a")
    with pytest.raises(AwsError) as excinfo:
        limiter.acquire("a")
    assert excinfo.value.status == 429
    assert excinfo.value.fields == {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    lease.release()
    lease.release()  # idempotent
    limiter.acquire("a").release()


def test_unreserved_pool_is_what_reservations_leave() -> None:
    limiter = ConcurrencyLimiter(account_limit=3)
    limiter.set_reserved("a", 2)
    assert limiter.unreserved_limit == 1
    with limiter.acquire("b"):
        with pytest.raises(AwsError) as excinfo:
            limiter.acquire("c")
        assert excinfo.value.fields == {"Reason": "ConcurrentInvocationLimitExceeded"}
        limiter.acquire("a").release()  # the reservation is still available
    assert limiter.in_flight() == 0
