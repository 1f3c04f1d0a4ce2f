"""Resource-policy decisions are remembered for the rest of a second: time conditions still hold exactly."""

from __future__ import annotations

from typing import Any

from lambdabox.core.resource_policy import everyone_may, service_may_invoke

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
BUCKET = "arn:aws:s3:::photos"


def statement(principal: Any, action: str, **condition: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": ARN}
    if condition:
        found["Condition"] = condition
    return found


def test_a_time_condition_is_decided_by_the_second_asked_about() -> None:
    until = 1_800_000_000  # 2027-01-15T08:00:00Z
    statements = [
        statement(
            {"Service": "s3.amazonaws.com"},
            "lambda:InvokeFunction",
            DateLessThan={"aws:CurrentTime": "2027-01-15T08:00:00Z"},
            ArnLike={"AWS:SourceArn": BUCKET},
        )
    ]

    def ask(now: float) -> bool:
        return service_may_invoke(statements, "s3.amazonaws.com", ARN, BUCKET, "000000000000", now)

    assert ask(until - 1.5) and ask(until - 0.2)  # the second answer comes from the remembered one
    assert not ask(until) and not ask(until + 0.9)
    assert not service_may_invoke(statements, "s3.amazonaws.com", ARN, "arn:aws:s3:::other", "0", until - 1)


def test_a_changed_policy_or_key_is_a_new_question() -> None:
    keys = {"lambda:functionurlauthtype": ["NONE"]}
    condition = {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    public = [statement("*", "lambda:InvokeFunctionUrl", **condition)]
    assert everyone_may(public, "lambda:InvokeFunctionUrl", ARN, keys)
    assert not everyone_may(
        public, "lambda:InvokeFunctionUrl", ARN, {"lambda:functionurlauthtype": ["AWS_IAM"]}
    )
    assert not everyone_may([], "lambda:InvokeFunctionUrl", ARN, keys)
    private = [statement({"AWS": "arn:aws:iam::000000000000:root"}, "lambda:InvokeFunctionUrl", **condition)]
    assert not everyone_may(private, "lambda:InvokeFunctionUrl", ARN, keys)
