"""The S3 errors more than one module raises, with S3's wording and extra fields."""

from __future__ import annotations

from lambdabox.errors import AwsError


def no_such_bucket(name: str) -> AwsError:
    return AwsError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": name})


def no_such_key(key: str) -> AwsError:
    return AwsError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> AwsError:
    fields = {} if name is None else {"ArgumentName": name, "ArgumentValue": value or ""}
    return AwsError("InvalidArgument", message, 400, fields=fields)


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequest", message, 400)


def malformed_xml() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def not_implemented(what: str) -> AwsError:
    return AwsError("NotImplemented", f"{what} is not implemented by Lambdabox yet.", 501)
