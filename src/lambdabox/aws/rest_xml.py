"""Server side of botocore's rest-xml protocol (S3), driven entirely by the botocore service model.

Routing by `requestUri` (with `{Bucket}`, greedy `{Key+}` and fixed sub-resource queries such as
`?tagging` or `?list-type=2`), input members by location (uri, querystring, header, header-prefix map,
XML payload with the model's `locationName`s and flattened lists), output members back into headers and
an XML document in the service's namespace, and errors as S3's `<Error>` document. Streaming payloads
(object bodies) are left to the caller, which reads and writes them chunk by chunk.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import orjson
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from lambdabox.errors import AwsError

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    fixed_query: tuple[tuple[str, str], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    literal: int
    preferred: bool


def _compile(request_uri: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...], int]:
    path, _, query = request_uri.partition("?")
    fixed = tuple((k, v) for k, _, v in (part.partition("=") for part in query.split("&") if part))
    regex = ""
    literal = 0
    for token in re.split(r"(\{[^}]+\})", path):
        if token.startswith("{"):
            name = token[1:-1]
            regex += f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(token)
            literal += len(token)
    return re.compile(regex + "/?"), fixed, literal


def _required(operation: OperationModel, location: str) -> tuple[str, ...]:
    shape = operation.input_shape
    if shape is None:
        return ()
    names = []
    for member_name in shape.required_members:
        member = shape.members[member_name]
        if member.serialization.get("location") == location:
            name = member.serialization.get("name", member_name)
            names.append(name.lower() if location == "header" else name)
    return tuple(names)


class RestXmlProtocol:
    """Everything about the rest-xml wire format of one service."""

    def __init__(
        self,
        model: ServiceModel,
        *,
        roots: Mapping[str, str] | None = None,
        preferred: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
        self._roots = dict(roots or {})
        favourites = set(preferred)
        routes = []
        for name in model.operation_names:
            operation = model.operation_model(name)
            pattern, fixed, literal = _compile(operation.http["requestUri"])
            routes.append(
                Route(
                    operation,
                    operation.http["method"],
                    pattern,
                    fixed,
                    _required(operation, "querystring"),
                    _required(operation, "header"),
                    literal,
                    name in favourites or not operation.deprecated,
                )
            )
        self._routes = routes
        self._subresources = frozenset(k for route in routes for k, _ in route.fixed_query)

    # -- routing -------------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[OperationModel, dict[str, str]]:
        present = {key for key, _ in query}
        values = dict(query)
        asked = present & self._subresources
        best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
        path_known = False
        for route in self._routes:
            if not all(
                key in present and (not value or values[key] == value) for key, value in route.fixed_query
            ):
                continue
            if asked - {key for key, _ in route.fixed_query}:
                continue
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route.method != method:
                continue
            if any(name not in present for name in route.required_query):
                continue
            if any(name not in headers for name in route.required_headers):
                continue
            rank = (
                len(route.fixed_query),
                len(route.required_query) + len(route.required_headers),
                int(route.preferred),
                route.literal,
            )
            if best is None or rank > best[0]:
                best = (rank, route, {k: unquote(v) for k, v in match.groupdict().items()})
        if best is not None:
            return best[1].operation, best[2]
        if path_known:
            raise AwsError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                fields={"Method": method, "ResourceType": "OBJECT" if path.count("/") > 1 else "BUCKET"},
            )
        raise AwsError("InvalidRequest", f"No operation matches {method} {path}", 400)

    def streaming_input(self, operation: OperationModel) -> bool:
        """Whether the operation's payload is a blob the caller streams (e.g. PutObject's Body)."""
        shape = operation.input_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        return payload is not None and shape is not None and shape.members[payload].type_name == "blob"

    # -- input ---------------------------------------------------------------------------------------
    def parse(
        self,
        operation: OperationModel,
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        payload_name = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                if wire in path_params:
                    params[name] = _from_text(member, path_params[wire], wire)
            elif location == "querystring":
                found = [v for k, v in query if k == wire]
                if found:
                    if member.type_name == "list":
                        params[name] = [_from_text(member.member, v, wire) for v in found]
                    else:
                        value = _from_text(member, found[0], wire)
                        if value is not None:
                            params[name] = value
            elif location == "header":
                text = headers.get(wire.lower())
                if text is not None:
                    value = _from_header(member, text)
                    if value is not None:
                        params[name] = value
            elif location == "headers":
                prefix = wire.lower()
                found_map = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
                if found_map:
                    params[name] = found_map
            elif name == payload_name and member.type_name == "structure" and body:
                params[name] = _from_xml(member, self._document(body))
            elif name == payload_name and member.type_name == "string" and body is not None:
                params[name] = body.decode("utf-8", "replace")  # e.g. PutBucketPolicy's JSON document
        return params

    @staticmethod
    def _document(body: bytes) -> ElementTree.Element:
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise _malformed()
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise _malformed() from None
        for element in root.iter():
            if isinstance(element.tag, str) and element.tag.startswith("{"):
                element.tag = element.tag.split("}", 1)[1]
        return root

    # -- output --------------------------------------------------------------------------------------
    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any] | None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for the non-streaming parts of an output."""
        status = int(operation.http.get("responseCode", 200))
        headers: dict[str, str] = {}
        shape = operation.output_shape
        if shape is None or output is None:
            return status, headers, b""
        payload_name = shape.serialization.get("payload")
        body_members: list[tuple[str, Shape]] = []
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            value = output.get(name)
            if location is None and name != payload_name:
                body_members.append((name, member))
            if value is None:
                continue
            wire = member.serialization.get("name", name)
            if location == "statusCode":
                status = int(value)
            elif location == "header":
                headers[wire] = _to_header(member, value)
            elif location == "headers":
                for key, item in value.items():
                    headers[wire + key] = str(item)
        body = b""
        if payload_name is not None:
            member = shape.members[payload_name]
            value = output.get(payload_name)
            if member.type_name == "structure" and value is not None:
                root = member.serialization.get("name", payload_name)
                body = self.document(root, structure_xml(member, value))
        elif body_members:
            root = self._roots.get(operation.name, f"{operation.name}Result")
            inner = "".join(
                _to_xml(member, output[name], _element_name(name, member))
                for name, member in body_members
                if output.get(name) is not None
            )
            body = self.document(root, inner)
        if body:
            headers["Content-Type"] = "application/xml"
        return status, headers, body

    def document(self, root: str, inner: str) -> bytes:
        return f'{XML_DECLARATION}<{root} xmlns="{self.namespace}">{inner}</{root}>'.encode()

    def serialize_error(self, error: AwsError, request_id: str, host_id: str, resource: str | None) -> bytes:
        parts = [f"<Code>{escape(error.code)}</Code>", f"<Message>{escape(error.message)}</Message>"]
        for key, value in error.fields.items():
            parts.append(f"<{key}>{escape(str(value))}</{key}>")
        if resource is not None and "Resource" not in error.fields:
            parts.append(f"<Resource>{escape(resource)}</Resource>")
        parts.append(f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId>")
        return f"{XML_DECLARATION}<Error>{''.join(parts)}</Error>".encode()


# -- value conversion --------------------------------------------------------------------------------
def _malformed() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def _from_text(shape: Shape, text: str, wire: str = "") -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            number = int(text)
        except ValueError:
            number = -1
        if number < 0 or number > 2**31 - 1:
            label = wire or shape.name
            raise AwsError(
                "InvalidArgument",
                f"Provided {label} not an integer or within integer range",
                400,
                fields={"ArgumentName": label, "ArgumentValue": text},
            )
        return number
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return _parse_time(text)
    return text


def _from_header(shape: Shape, text: str) -> Any:
    if shape.serialization.get("jsonvalue"):
        try:
            return orjson.loads(base64.b64decode(text))
        except (binascii.Error, orjson.JSONDecodeError):
            raise AwsError("InvalidArgument", f"Invalid header value {text!r}", 400) from None
    if shape.type_name == "list":
        return [_from_text(shape.member, part.strip()) for part in text.split(",") if part.strip()]
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidArgument", f"Invalid header value {text!r}", 400) from None
    return _from_text(shape, text)


def _parse_time(text: str) -> datetime | None:
    """HTTP dates (RFC 1123 and friends), ISO 8601 or epoch seconds; None when unreadable (S3 then
    ignores the condition, as RFC 9110 asks)."""
    text = text.strip()
    try:
        moment = parsedate_to_datetime(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError):
        return None


def _element_name(member_name: str, member: Shape) -> str:
    """The element a structure member is written as (botocore's parser rule for flattened lists)."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        named = member.member.serialization.get("name")
        if named is not None:
            return str(named)
    return str(member.serialization.get("name", member_name))


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if child.tag == name]


def _from_xml(shape: Shape, element: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") is not None:
                continue
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                items = _children(element, wire) or _children(element, _element_name(name, member))
                if items:
                    out[name] = [_from_xml(member.member, item) for item in items]
                continue
            found = _children(element, wire)
            if found:
                out[name] = _from_xml(member, found[0])
        for name in shape.required_members:
            if name not in out and shape.members[name].serialization.get("location") is None:
                raise _malformed()
        return out
    if kind == "list":
        return [_from_xml(shape.member, child) for child in element]
    if kind == "map":
        entries: dict[str, Any] = {}
        for entry in element:
            key = entry.find(shape.key.serialization.get("name", "key"))
            value = entry.find(shape.value.serialization.get("name", "value"))
            if key is not None and value is not None:
                entries[key.text or ""] = _from_xml(shape.value, value)
        return entries
    text = element.text or ""
    if kind == "blob":
        try:
            return base64.b64decode(text)
        except binascii.Error:
            raise _malformed() from None
    if kind in ("integer", "long"):
        try:
            return int(text.strip())
        except ValueError:
            raise _malformed() from None
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind == "timestamp":
        moment = _parse_time(text)
        if moment is None:
            raise _malformed()
        return moment
    return text


def _iso(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def structure_xml(shape: Shape, value: Mapping[str, Any]) -> str:
    assert isinstance(shape, StructureShape)
    return "".join(
        _to_xml(member, value[name], _element_name(name, member))
        for name, member in shape.members.items()
        if value.get(name) is not None and member.serialization.get("location") is None
    )


def _to_xml(shape: Shape, value: Any, name: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"<{name}>{structure_xml(shape, value)}</{name}>"
    if kind == "list":
        if shape.serialization.get("flattened"):
            return "".join(_to_xml(shape.member, item, name) for item in value)
        item_name = shape.member.serialization.get("name", "member")
        return f"<{name}>{''.join(_to_xml(shape.member, item, item_name) for item in value)}</{name}>"
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries = "".join(
            f"<entry>{_to_xml(shape.key, k, key_name)}{_to_xml(shape.value, v, value_name)}</entry>"
            for k, v in value.items()
        )
        return f"<{name}>{entries}</{name}>"
    if kind == "boolean":
        text = "true" if value else "false"
    elif kind == "timestamp":
        text = _iso(value)
    elif kind == "blob":
        text = base64.b64encode(value).decode()
    else:
        text = escape(str(value))
    return f"<{name}>{text}</{name}>"


def _to_header(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if isinstance(value, str):
        return value  # already in wire form (e.g. an Expires header kept as the client sent it)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return _iso(value)
        stamp = value.timestamp() if isinstance(value, datetime) else float(value)
        return formatdate(stamp, usegmt=True)
    if kind == "list":
        return ",".join(str(item) for item in value)
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(orjson.dumps(value)).decode()
    return str(value)
