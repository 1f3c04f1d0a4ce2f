"""Rotation through a Lambda function, as AWS's rotation protocol: a new version labelled AWSPENDING, then
the function is invoked (synchronously, one step after the other) with createSecret, setSecret, testSecret
and finishSecret; finishSecret moves AWSCURRENT to the new version (the old one becomes AWSPREVIOUS).

Like AWS, RotateSecret answers once the rotation has started; the steps run in the background on the
event loop. A failed step stops the rotation and leaves AWSPENDING where it is: the next RotateSecret
reattempts it with the same version id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import orjson

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.invoke import InvokeService
from lambdabox.core.names import parse_function_ref
from lambdabox.core.resource_policy import invocation_allowed
from lambdabox.core.secrets.models import CURRENT, RotationRules
from lambdabox.core.secrets.service import SecretsService, next_rotation
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.secrets")
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PRINCIPAL = "secretsmanager.amazonaws.com"


class Rotator:
    def __init__(self, secrets: SecretsService, invoker: InvokeService, settings: FunctionSettings) -> None:
        self._secrets = secrets
        self._invoker = invoker
        self._settings = settings
        self._running: dict[str, asyncio.Task[bool]] = {}  # by secret ARN
        self._attempted: dict[str, float] = {}  # secret ARN -> the due time last rotated automatically
        self._schedule: asyncio.Task[None] | None = None

    def _check_function(self, function_arn: str, secret_arn: str) -> None:
        try:
            ref = parse_function_ref(self._secrets.account, function_arn)
        except AwsError:
            raise AwsError(
                "InvalidParameterException", f"Invalid RotationLambdaARN: {function_arn}"
            ) from None
        if not invocation_allowed(self._settings, self._secrets.account, ref, PRINCIPAL, secret_arn):
            raise AwsError(
                "AccessDeniedException",
                "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
                "grants access to the principal secretsmanager.amazonaws.com.",
            )

    def rotate(
        self,
        secret_id: str,
        token: str | None,
        function_arn: str | None,
        rules: RotationRules | None,
        immediately: bool,
    ) -> tuple[str, str, str | None]:
        """Start a rotation (or, with `immediately` false, only record the schedule and test the current
        version). Returns (ARN, name, the new version id or None)."""
        secret = self._secrets.active(secret_id)
        arn = function_arn or secret.rotation_lambda
        if arn is None:
            raise AwsError(
                "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret."
            )
        self._check_function(arn, secret.arn)
        if not immediately:
            secret = self._secrets.configure_rotation(secret_id, arn, rules)
            current = secret.version_with(CURRENT)
            if current is not None:
                self._spawn(secret.arn, arn, current.version_id, ("testSecret",), finish=False)
            return secret.arn, secret.name, None
        secret, version_id, again = self._secrets.begin_rotation(secret_id, token, function_arn, rules)
        assert secret.rotation_lambda is not None
        if not (again and secret.arn in self._running):  # a rotation still running is not started twice
            self._spawn(secret.arn, secret.rotation_lambda, version_id, STEPS, finish=True)
        if again:
            raise AwsError(
                "InvalidRequestException",
                "A previous rotation isn't complete. That rotation will be reattempted.",
            )
        return secret.arn, secret.name, version_id

    def _spawn(
        self, secret_arn: str, function_arn: str, version_id: str, steps: tuple[str, ...], finish: bool
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._run(secret_arn, function_arn, version_id, steps, finish)
        )
        self._running[secret_arn] = task
        task.add_done_callback(lambda done: self._forget(secret_arn, done))

    def _forget(self, secret_arn: str, task: asyncio.Task[bool]) -> None:
        if self._running.get(secret_arn) is task:
            del self._running[secret_arn]

    async def _run(
        self, secret_arn: str, function_arn: str, version_id: str, steps: tuple[str, ...], finish: bool
    ) -> bool:
        ref = parse_function_ref(self._secrets.account, function_arn)
        for step in steps:
            payload = orjson.dumps(
                {
                    "Step": step,
                    "SecretId": secret_arn,
                    "ClientRequestToken": version_id,
                    "RotationToken": str(uuid.uuid4()),
                }
            )
            try:
                result = await self._invoker.invoke(ref, payload)
            except AwsError as error:
                log.warning("rotation of %s: %s failed: %s", secret_arn, step, error.message)
                return False
            if result.function_error is not None:
                log.warning(
                    "rotation of %s: %s failed: %s", secret_arn, step, result.payload.decode(errors="replace")
                )
                return False
        return self._secrets.finish_rotation(secret_arn, version_id) if finish else True

    # -- automatic rotation (RotationRules) on the platform clock ---------------------------------------
    def start(self, interval: float = 1.0) -> None:
        self._schedule = asyncio.get_running_loop().create_task(self._every(interval))

    async def stop(self) -> None:
        tasks = [t for t in (self._schedule, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.rotate_due()
            except Exception:
                log.exception("automatic rotation pass failed")

    def rotate_due(self) -> None:
        """Start the rotation of every secret whose schedule is due, each due time once (a failed automatic
        rotation stays pending until the next RotateSecret)."""
        for secret in self._secrets.due_rotations():
            due = next_rotation(secret)
            if due is None or self._attempted.get(secret.arn) == due or secret.arn in self._running:
                continue
            self._attempted[secret.arn] = due
            try:
                self.rotate(secret.arn, None, None, None, immediately=True)
            except AwsError as error:
                log.warning("automatic rotation of %s: %s", secret.arn, error.message)
