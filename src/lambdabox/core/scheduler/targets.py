"""What a schedule's target is and how a fire reaches it.

- Lambda functions (`arn:aws:lambda:...:function:name[:qualifier]`): an asynchronous invocation whose
  event is the target's `Input` verbatim (`{}` without one), queued durably; from there the function's
  own asynchronous settings (retries, maximum age, destinations) apply, as on AWS;
- EventBridge event buses (`arn:aws:events:...:event-bus/name`): one PutEvents entry with
  `EventBridgeParameters` DetailType and Source, the Input as its detail and the schedule as its resource;
- the universal target `arn:aws:scheduler:::aws-sdk:lambda:invoke`: Input is the Invoke request
  (`FunctionName`, `Qualifier`, `Payload`), run as an asynchronous invocation;
- anything else (SQS, SNS, other templated or universal targets) is accepted and stored but nothing on
  this platform serves it yet: each fire fails and is logged (with the dead-letter queue it would go to).
A target that refuses a fire with an error worth retrying (the function or the bus does not exist yet) is
retried by `firing.py` per the schedule's RetryPolicy; other refusals are final.
A fire acts as the schedule's execution role (`RoleArn`): its policies must allow `lambda:InvokeFunction` on
the function (`events:PutEvents` on the bus), as on AWS, or the fire is refused (AccessDeniedException, not
retried). The role's trust policy is not evaluated.

`Input` may name context attributes that are filled in at each fire: `<aws.scheduler.schedule-arn>`,
`<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>` and `<aws.scheduler.attempt-number>`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from lambdabox.core.events.models import iso_time
from lambdabox.core.events.service import EntryResult, EventEntry
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.invoke import InvokeService
from lambdabox.core.names import Account, parse_function_ref
from lambdabox.core.scheduler.models import Schedule, ScheduleTarget
from lambdabox.core.scheduler.names import invalid
from lambdabox.errors import AwsError

UNIVERSAL_LAMBDA_INVOKE = "arn:aws:scheduler:::aws-sdk:lambda:invoke"
_UNIVERSAL = re.compile(r"arn:aws[a-z-]*:scheduler:::aws-sdk:[a-z0-9-]+:[a-zA-Z0-9]+")
_BUS = re.compile(r"arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._\-/]+")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+")

PutEvents = Callable[[Sequence[EventEntry]], list[EntryResult]]


def _service(arn: str) -> str:
    return arn.split(":")[2]


def check_target(target: ScheduleTarget, account: Account) -> None:
    """ValidationException for a target EventBridge Scheduler would refuse."""
    if _UNIVERSAL.fullmatch(target.arn):
        return
    if _ARN.fullmatch(target.arn) is None:
        raise invalid(f"Invalid target arn {target.arn}.")
    service = _service(target.arn)
    if service == "lambda":
        try:
            if ":function:" not in target.arn:
                raise invalid(target.arn)
            parse_function_ref(account, target.arn)
        except AwsError as error:
            if error.code == "ValidationException":
                raise invalid(f"Invalid target arn {target.arn}.") from None
            # another region or account: accepted here, the fire fails (Lambdabox is one account)
    if service == "events":
        if _BUS.fullmatch(target.arn) is None:
            raise invalid(f"Invalid target arn {target.arn}.")
        if "EventBridgeParameters" not in target.parameters:
            raise invalid("EventBridgeParameters must be specified for an EventBridge PutEvents target.")
    if "SqsParameters" in target.parameters and service != "sqs":
        raise invalid("SqsParameters can only be specified for an Amazon SQS target.")
    if "EventBridgeParameters" in target.parameters and service != "events":
        raise invalid("EventBridgeParameters can only be specified for an EventBridge PutEvents target.")


# Refusals worth retrying: the target may exist later (AWS retries these per the RetryPolicy too).
RETRYABLE = frozenset(["ResourceNotFoundException", "ResourceConflictException", "TooManyRequestsException",
                       "ServiceException", "InternalException"])  # fmt: skip


@dataclass(frozen=True)
class Delivered:
    """The outcome of one attempt: `problem` is None when the target accepted the fire."""

    execution_id: str
    problem: str | None = None
    retryable: bool = False


def render_input(text: str | None, schedule_arn: str, due: float, execution_id: str, attempt: int = 1) -> str:
    if text is None:
        return "{}"
    for name, value in (
        ("schedule-arn", schedule_arn),
        ("scheduled-time", iso_time(due)),
        ("execution-id", execution_id),
        ("attempt-number", str(attempt)),
    ):
        text = text.replace(f"<aws.scheduler.{name}>", value)
    return text


class ScheduleDelivery:
    """`authorizer`: IAM, checking what the schedule's role may do (None: authentication is off)."""

    def __init__(
        self,
        account: Account,
        invoker: InvokeService,
        put_events: PutEvents,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._account = account
        self._invoker = invoker
        self._put_events = put_events
        self._authorizer = authorizer

    def deliver(
        self,
        schedule: Schedule,
        schedule_arn: str,
        due: float,
        execution_id: str | None = None,
        attempt: int = 1,
    ) -> Delivered:
        """Hand one fire (attempt `attempt` of execution `execution_id`) to the schedule's target. Never
        raises an AwsError: a refusal is the problem."""
        execution_id = execution_id or str(uuid.uuid4())
        payload = render_input(schedule.target.input, schedule_arn, due, execution_id, attempt)
        try:
            problem = self._deliver(schedule, schedule_arn, payload)
        except AwsError as error:
            return Delivered(execution_id, f"{error.code}: {error.message}", error.code in RETRYABLE)
        if problem is None:
            return Delivered(execution_id)
        return Delivered(execution_id, problem, problem.split(":", 1)[0] in RETRYABLE)

    def _deliver(self, schedule: Schedule, schedule_arn: str, payload: str) -> str | None:
        target = schedule.target
        if target.arn == UNIVERSAL_LAMBDA_INVOKE:
            return self._universal_invoke(target.role_arn, payload)
        service = _service(target.arn)
        if service == "lambda":
            self._enqueue(target.role_arn, target.arn, None, payload.encode())
            return None
        if service == "events":
            self._check_role(target.role_arn, "events:PutEvents", target.arn)
            parameters = target.parameters.get("EventBridgeParameters") or {}
            [result] = self._put_events(
                [
                    EventEntry(
                        source=parameters.get("Source"),
                        detail_type=parameters.get("DetailType"),
                        detail=payload,
                        resources=(schedule_arn,),
                        bus=target.arn,
                    )
                ]
            )
            return None if result.error_code is None else f"{result.error_code}: {result.error_message}"
        return f"{target.arn}: targets of this service are not served by Lambdabox yet"

    def _universal_invoke(self, role_arn: str, payload: str) -> str | None:
        try:
            request = orjson.loads(payload)
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("FunctionName"), str):
            return (
                "the Input of an aws-sdk:lambda:invoke target must be a JSON Invoke request with FunctionName"
            )
        body = request.get("Payload", "{}")
        data = body.encode() if isinstance(body, str) else orjson.dumps(body)
        self._enqueue(role_arn, request["FunctionName"], request.get("Qualifier"), data)
        return None

    def _enqueue(self, role_arn: str, function: str, qualifier: str | None, payload: bytes) -> None:
        ref = parse_function_ref(self._account, function, qualifier)
        self._check_role(
            role_arn, "lambda:InvokeFunction", self._account.function_arn(ref.name, ref.qualifier)
        )
        self._invoker.enqueue(ref, payload)

    def _check_role(self, role_arn: str, action: str, resource: str) -> None:
        """AccessDeniedException unless the schedule's role may do `action` on `resource`."""
        if self._authorizer is None:
            return
        role = role_arn.rsplit("/", 1)[-1]
        session = f"arn:aws:sts::{self._account.account_id}:assumed-role/{role}/scheduler"
        self._authorizer.check(session, action, resource, service=action.split(":", 1)[0])
