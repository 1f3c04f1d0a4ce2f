"""Which runtime identifiers the API accepts, and which are deprecated (AWS refuses those for new code)."""

from __future__ import annotations

from lambdabox.errors import AwsError

SUPPORTED = (
    "nodejs24.x",
    "nodejs22.x",
    "nodejs20.x",
    "python3.14",
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3.9",
    "java25",
    "java21",
    "java17",
    "java11",
    "java8.al2",
    "dotnet10",
    "dotnet8",
    "ruby3.4",
    "ruby3.3",
    "ruby3.2",
    "provided.al2023",
    "provided.al2",
)

# Deprecated identifier -> the runtime AWS recommends instead.
DEPRECATED = {
    "python2.7": "python3.13",
    "python3.6": "python3.13",
    "python3.7": "python3.13",
    "python3.8": "python3.13",
    "nodejs": "nodejs22.x",
    "nodejs4.3": "nodejs22.x",
    "nodejs4.3-edge": "nodejs22.x",
    "nodejs6.10": "nodejs22.x",
    "nodejs8.10": "nodejs22.x",
    "nodejs10.x": "nodejs22.x",
    "nodejs12.x": "nodejs22.x",
    "nodejs14.x": "nodejs22.x",
    "nodejs16.x": "nodejs22.x",
    "nodejs18.x": "nodejs22.x",
    "java8": "java21",
    "dotnetcore1.0": "dotnet8",
    "dotnetcore2.0": "dotnet8",
    "dotnetcore2.1": "dotnet8",
    "dotnetcore3.1": "dotnet8",
    "dotnet6": "dotnet8",
    "go1.x": "provided.al2023",
    "ruby2.5": "ruby3.3",
    "ruby2.7": "ruby3.3",
    "provided": "provided.al2023",
}


def check_runtime(runtime: str) -> None:
    if runtime in SUPPORTED:
        return
    if runtime in DEPRECATED:
        raise AwsError(
            "InvalidParameterValueException",
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({DEPRECATED[runtime]}) while creating or "
            "updating functions.",
        )
    raise AwsError(
        "InvalidParameterValueException",
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{', '.join(SUPPORTED)}] or be a valid ARN",
    )
