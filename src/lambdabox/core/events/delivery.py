"""Delivering a matched event to a rule's targets.

Lambda targets get the (transformed) event as an asynchronous invocation, durable once queued, when the
function's resource policy lets `events.amazonaws.com` invoke it for the rule's ARN — otherwise, as on
AWS, the invocation fails and the event is dropped for that target (counted in `failed`, logged). Targets
of other services are accepted by PutTargets but nothing on this platform serves them: they fail too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lambdabox.core.clock import Clock
from lambdabox.core.events.models import Rule, Target
from lambdabox.core.events.names import EventsNames
from lambdabox.core.events.transform import target_payload
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.invoke import InvokeService
from lambdabox.core.names import parse_function_ref
from lambdabox.core.resource_policy import invocation_allowed
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.events")

EVENTS_PRINCIPAL = "events.amazonaws.com"


class Delivery(Protocol):
    def deliver(self, rule: Rule, targets: Sequence[Target], event: Mapping[str, Any]) -> int: ...


@dataclass
class DeliveryStats:
    """Invocations and failed invocations since the server started (AWS: the rule metrics)."""

    invocations: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(
        self, names: EventsNames, settings: FunctionSettings, invoker: InvokeService, clock: Clock
    ) -> None:
        self._names = names
        self._settings = settings
        self._invoker = invoker
        self._clock = clock
        self.stats = DeliveryStats()

    def deliver(self, rule: Rule, targets: Sequence[Target], event: Mapping[str, Any]) -> int:
        """Queue `event` for every target of `rule`; the number of targets it was queued for. Never raises
        an AwsError: a target that cannot receive the event is a failed invocation."""
        rule_arn = self._names.rule_arn(rule.bus, rule.name)
        delivered = 0
        for target in targets:
            self.stats.invocations += 1
            problem = self._deliver(rule, rule_arn, target, event)
            if problem is None:
                delivered += 1
                continue
            self.stats.failed += 1
            log.warning(
                "event %s of rule %s not delivered to %s: %s", event.get("id"), rule_arn, target.arn, problem
            )
        return delivered

    def _deliver(self, rule: Rule, rule_arn: str, target: Target, event: Mapping[str, Any]) -> str | None:
        if ":lambda:" not in target.arn or ":function:" not in target.arn:
            return "only Lambda function targets are served by Lambdabox"
        try:
            ref = parse_function_ref(self._names.account, target.arn)
        except AwsError as error:
            return error.message
        if not invocation_allowed(self._settings, self._names.account, ref, EVENTS_PRINCIPAL, rule_arn):
            return f"the resource policy of {target.arn} does not allow {EVENTS_PRINCIPAL} to invoke it for {rule_arn}"
        payload = target_payload(target, event, rule.name, rule_arn, self._clock.now())
        try:
            self._invoker.enqueue(ref, payload)
        except AwsError as error:
            return error.message
        return None
