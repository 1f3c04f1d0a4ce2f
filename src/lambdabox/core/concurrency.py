"""Concurrent-execution accounting: the account limit, reserved concurrency, the unreserved pool."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lambdabox.errors import AwsError


def throttled(reason: str) -> AwsError:
    return AwsError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        429,
        fields={"Reason": reason},
        headers={"Retry-After": "1"},
    )


@dataclass
class Lease:
    limiter: ConcurrencyLimiter
    function: str
    reserved: bool
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.limiter._release(self)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ConcurrencyLimiter:
    """Functions with reserved concurrency use only their reservation; the rest share what is left."""

    def __init__(self, account_limit: int) -> None:
        self.account_limit = account_limit
        self._in_flight: dict[str, int] = defaultdict(int)
        self._unreserved_in_flight = 0
        self._reserved: dict[str, int] = {}

    def set_reserved(self, function: str, reserved: int | None) -> None:
        if reserved is None:
            self._reserved.pop(function, None)
        else:
            self._reserved[function] = reserved

    def reserved(self, function: str) -> int | None:
        return self._reserved.get(function)

    def reserved_total(self, excluding: str | None = None) -> int:
        return sum(v for k, v in self._reserved.items() if k != excluding)

    @property
    def unreserved_limit(self) -> int:
        return self.account_limit - self.reserved_total()

    def in_flight(self, function: str | None = None) -> int:
        if function is None:
            return sum(self._in_flight.values())
        return self._in_flight[function]

    def acquire(self, function: str) -> Lease:
        reserved = self._reserved.get(function)
        if reserved is not None:
            if self._in_flight[function] >= reserved:
                raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            self._in_flight[function] += 1
            return Lease(self, function, reserved=True)
        if self._unreserved_in_flight >= self.unreserved_limit:
            raise throttled("ConcurrentInvocationLimitExceeded")
        self._in_flight[function] += 1
        self._unreserved_in_flight += 1
        return Lease(self, function, reserved=False)

    def _release(self, lease: Lease) -> None:
        self._in_flight[lease.function] -= 1
        if not lease.reserved:
            self._unreserved_in_flight -= 1
