"""EventBridge event patterns: matching semantics and the validation reasons, as tables."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lambdabox.core.events.patterns import compile_pattern
from lambdabox.errors import AwsError

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "count": 5,
        "price": 10.5,
        "flag": True,
        "nothing": None,
        "tags": ["prod", "web"],
        "empty": [],
        "location": {"city": "Paris", "zip": "75001"},
        "ip": "10.0.0.12",
        "items": [{"name": "a", "size": 1}, {"name": "b", "size": 20}],
        "file": "dir/sub/report.PNG",
    },
}

MATCHES = [
    # exact values, ANDed fields, ORed values
    ({"source": ["aws.ec2"]}, True),
    ({"source": ["aws.s3"]}, False),
    ({"source": ["aws.s3", "aws.ec2"]}, True),
    ({"source": ["aws.ec2"], "detail-type": ["other"]}, False),
    ({"detail": {"state": ["terminated"]}}, True),
    ({"detail": {"state": ["Terminated"]}}, False),
    ({"detail": {"missing": ["x"]}}, False),
    # numbers compare numerically, and never equal strings; booleans and null are their own type
    ({"detail": {"count": [5]}}, True),
    ({"detail": {"count": [5.0]}}, True),
    ({"detail": {"count": ["5"]}}, False),
    ({"detail": {"flag": [True]}}, True),
    ({"detail": {"flag": [1]}}, False),
    ({"detail": {"nothing": [None]}}, True),
    ({"detail": {"missing": [None]}}, False),
    # arrays in the event match when any element does; an empty array has no values
    ({"detail": {"tags": ["web"]}}, True),
    ({"detail": {"tags": ["db"]}}, False),
    ({"resources": [{"prefix": "arn:aws:ec2:"}]}, True),
    ({"detail": {"empty": [None]}}, False),
    # nested objects; an array of objects matches when one element matches all the nested fields
    ({"detail": {"location": {"city": ["Paris"]}}}, True),
    ({"detail": {"location": {"city": ["Paris"], "zip": ["75002"]}}}, False),
    ({"detail": {"items": {"name": ["b"], "size": [20]}}}, True),
    ({"detail": {"items": {"name": ["a"], "size": [20]}}}, False),
    # prefix, suffix, with and without case
    ({"detail": {"state": [{"prefix": "term"}]}}, True),
    ({"detail": {"state": [{"prefix": "TERM"}]}}, False),
    ({"detail": {"state": [{"prefix": {"equals-ignore-case": "TERM"}}]}}, True),
    ({"detail": {"file": [{"suffix": ".PNG"}]}}, True),
    ({"detail": {"file": [{"suffix": ".png"}]}}, False),
    ({"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}, True),
    ({"detail": {"count": [{"prefix": "5"}]}}, False),
    # equals-ignore-case
    ({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}, True),
    ({"detail": {"state": [{"equals-ignore-case": "TERMINATE"}]}}, False),
    # wildcard: * is any run of characters, escapes are literal
    ({"detail": {"file": [{"wildcard": "dir/*/report.*"}]}}, True),
    ({"detail": {"file": [{"wildcard": "dir/*.txt"}]}}, False),
    ({"detail": {"file": [{"wildcard": "dir/sub/report.PNG*"}]}}, True),
    ({"detail": {"state": [{"wildcard": "term\\*"}]}}, False),
    # anything-but: values, lists, prefix, suffix, ignore-case, wildcard; a missing field never matches
    ({"detail": {"state": [{"anything-but": "running"}]}}, True),
    ({"detail": {"state": [{"anything-but": "terminated"}]}}, False),
    ({"detail": {"state": [{"anything-but": ["running", "terminated"]}]}}, False),
    ({"detail": {"count": [{"anything-but": [1, 2, 3]}]}}, True),
    ({"detail": {"count": [{"anything-but": 5}]}}, False),
    ({"detail": {"nothing": [{"anything-but": "x"}]}}, True),
    ({"detail": {"count": [{"anything-but": {"prefix": "init"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}}, False),
    ({"detail": {"file": [{"anything-but": {"suffix": ".PNG"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING", "TERMINATED"]}}]}}, False),
    ({"detail": {"file": [{"anything-but": {"wildcard": "*.txt"}}]}}, True),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),
    # numeric ranges
    ({"detail": {"count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
    ({"detail": {"count": [{"numeric": [">", 5]}]}}, False),
    ({"detail": {"price": [{"numeric": [">=", 10.5, "<", 11]}]}}, True),
    ({"detail": {"price": [{"numeric": ["=", 10.5]}]}}, True),
    ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),
    ({"detail": {"items": {"size": [{"numeric": [">", 10]}]}}}, True),
    # exists: leaf values only
    ({"detail": {"state": [{"exists": True}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"state": [{"exists": False}]}}, False),
    ({"detail": {"nothing": [{"exists": True}]}}, True),
    ({"detail": {"location": [{"exists": True}]}}, False),
    ({"detail": {"empty": [{"exists": False}]}}, True),
    ({"nowhere": {"deeper": [{"exists": False}]}}, True),
    # cidr
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    # $or, alone and beside other fields, nested
    ({"$or": [{"source": ["aws.s3"]}, {"detail": {"count": [5]}}]}, True),
    ({"$or": [{"source": ["aws.s3"]}, {"detail": {"count": [6]}}]}, False),
    ({"source": ["aws.ec2"], "$or": [{"detail-type": ["x"]}, {"detail": {"tags": ["prod"]}}]}, True),
    ({"source": ["aws.s3"], "$or": [{"detail-type": ["x"]}, {"detail": {"tags": ["prod"]}}]}, False),
    ({"detail": {"$or": [{"state": ["running"]}, {"count": [{"numeric": ["<", 10]}]}]}}, True),
]


@pytest.mark.parametrize(("pattern", "expected"), MATCHES, ids=[orjson.dumps(p).decode() for p, _ in MATCHES])
def test_matching(pattern: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(orjson.dumps(pattern).decode()).matches(EVENT) is expected


INVALID = [
    ("[]", "Filter is not an object"),
    ("{not json", "Filter is not valid JSON"),
    ('{"source": "aws.ec2"}', '"source" must be an object or an array'),
    ('{"source": []}', "Empty arrays are not allowed"),
    ('{"detail": {}}', "Empty objects are not allowed"),
    ('{"source": [["a"]]}', "Match value must be String, number, true, false, or null"),
    ('{"source": [{"prefix": 1}]}', "prefix match pattern must be a string"),
    ('{"source": [{"suffix": ["a"]}]}', "suffix match pattern must be a string"),
    ('{"source": [{"prefix": "a", "suffix": "b"}]}', "Only one key allowed in match expression"),
    ('{"source": [{"regex": "a"}]}', "Unrecognized match type regex"),
    ('{"source": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
    ('{"source": [{"equals-ignore-case": 1}]}', "equals-ignore-case match pattern must be a string"),
    ('{"source": [{"wildcard": "a**b"}]}', "Consecutive wildcard characters at pos 2"),
    ('{"n": [{"numeric": ">"}]}', "Value of numeric must be an array."),
    ('{"n": [{"numeric": ["~", 1]}]}', "Unrecognized numeric range operator: ~"),
    ('{"n": [{"numeric": ["=", "1"]}]}', "Value of equals must be numeric"),
    ('{"n": [{"numeric": ["<", 1, ">", 0]}]}', "Too many elements in numeric expression"),
    ('{"n": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top"),
    ('{"n": [{"numeric": [">", 0, ">", 1]}]}', "Bad numeric range operator: >"),
    ('{"s": [{"anything-but": {"contains": "x"}}]}', "Unsupported anything-but pattern: contains"),
    ('{"s": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed"),
    (
        '{"s": [{"anything-but": ["a", 1]}]}',
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    ('{"s": [{"anything-but": [null]}]}', "Inside anything but list, start|null|boolean is not supported."),
    (
        '{"s": [{"anything-but": true}]}',
        "Value of anything-but must be an array or single string/number value.",
    ),
    ('{"ip": [{"cidr": "10.0.0.0"}]}', "Malformed CIDR, one '/' required"),
    ('{"$or": [{"a": ["b"]}]}', "There must have at least 2 Objects in $or relationship."),
    ('{"$or": {"a": ["b"]}}', "It must be an Array followed with $or."),
]


@pytest.mark.parametrize(("pattern", "reason"), INVALID, ids=[p for p, _ in INVALID])
def test_invalid_patterns(pattern: str, reason: str) -> None:
    with pytest.raises(AwsError) as excinfo:
        compile_pattern(pattern)
    assert excinfo.value.code == "InvalidEventPatternException"
    assert excinfo.value.message == f"Event pattern is not valid. Reason: {reason}"
