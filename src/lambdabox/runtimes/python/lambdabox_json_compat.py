"""Slow paths that reproduce simplejson, the JSON library awslambdaric marshals with.

The fast paths in ``lambdabox_marshaller`` use the stdlib C codec and fall back to this module
only when the result could differ from simplejson's:

* ``encode`` handles what the stdlib encoder treats differently: objects with ``_asdict()``
  (namedtuples become JSON objects), ``bytes`` values and keys (decoded as UTF-8), ``Decimal``
  (written verbatim, NaN as ``NaN``), and the exact error messages.
* ``decode_error`` finds the error simplejson reports for a document the stdlib decoder rejected
  (simplejson also rejects ``NaN``/``Infinity`` and words several messages differently).
"""

from __future__ import annotations

import re
import sys
from json.encoder import encode_basestring, encode_basestring_ascii

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_INT_REPR = int.__repr__
_FLOAT_REPR = float.__repr__
_INF = float("inf")
_RECURSION_MESSAGE = "maximum recursion depth exceeded while encoding a JSON object"


def _floatstr(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return _FLOAT_REPR(o)


class _Encoder:
    """simplejson's ``JSONEncoder(allow_nan=True, use_decimal=False)`` plus awslambdaric's
    ``default`` (Decimal as raw JSON), with default separators; builds a list of chunks."""

    def __init__(self, ensure_ascii: bool) -> None:
        self.quote: Callable[[str], str] = encode_basestring_ascii if ensure_ascii else encode_basestring
        self.chunks: list[str] = []
        self.markers: dict[int, Any] = {}

    def value(self, o: Any) -> None:
        append = self.chunks.append
        if isinstance(o, str):
            append(self.quote(o))
        elif o is None:
            append("null")
        elif o is True:
            append("true")
        elif o is False:
            append("false")
        elif isinstance(o, int):
            append(_INT_REPR(o))
        elif isinstance(o, float):
            append(_floatstr(o))
        elif isinstance(o, bytes):
            append(self.quote(str(o, "utf-8")))
        else:
            asdict = getattr(o, "_asdict", None)
            if asdict is not None and callable(asdict):
                dct = asdict()
                if not isinstance(dct, dict):
                    raise TypeError(f"_asdict() must return a dict, not {type(dct).__name__}")
                self.object(dct)
            elif isinstance(o, (list, tuple)):
                self.array(o)
            elif isinstance(o, dict):
                self.object(o)
            else:
                marker = self._enter(o)
                self.default(o)
                del self.markers[marker]

    def default(self, o: Any) -> None:
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(o, decimal.Decimal):
            self.chunks.append("NaN" if o.is_nan() else str(o))
            return
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    def _enter(self, o: Any) -> int:
        marker = id(o)
        if marker in self.markers:
            raise ValueError("Circular reference detected")
        self.markers[marker] = o
        return marker

    def array(self, seq: list[Any] | tuple[Any, ...]) -> None:
        append = self.chunks.append
        if not seq:
            append("[]")
            return
        marker = self._enter(seq)
        append("[")
        first = True
        for item in seq:
            if first:
                first = False
            else:
                append(", ")
            self.value(item)
        append("]")
        del self.markers[marker]

    def object(self, dct: dict[Any, Any]) -> None:
        append = self.chunks.append
        if not dct:
            append("{}")
            return
        marker = self._enter(dct)
        append("{")
        first = True
        for key, item in dct.items():
            if first:
                first = False
            else:
                append(", ")
            append(self.quote(_stringify_key(key)))
            append(": ")
            self.value(item)
        append("}")
        del self.markers[marker]


def _stringify_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return str(key, "utf-8")
    if isinstance(key, float):
        return _floatstr(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return _INT_REPR(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def encode(o: Any, ensure_ascii: bool) -> str:
    """``awslambdaric``'s ``to_json(o)``: simplejson output, byte for byte."""
    encoder = _Encoder(ensure_ascii)
    try:
        encoder.value(o)
    except RecursionError:
        raise RecursionError(_RECURSION_MESSAGE) from None
    return "".join(encoder.chunks)


# ---------------------------------------------------------------------------------------------
# Decoding errors


class _Located(Exception):
    def __init__(self, msg: str, pos: int, end: int | None = None) -> None:
        self.msg = msg
        self.pos = pos
        self.end = end


_WS = " \t\n\r"
_skip_ws = re.compile(r"[ \t\n\r]*").match
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?").match
_STRING_CHUNK = re.compile(r'[^"\\\x00-\x1f]*').match
_HEX4 = re.compile(r"[0-9a-fA-F]{4}").fullmatch
_ESCAPES = frozenset('"\\/bfnrt')


def _linecol(doc: str, pos: int) -> tuple[int, int]:
    lineno = doc.count("\n", 0, pos) + 1
    colno = pos + 1 if lineno == 1 else pos - doc.rindex("\n", 0, pos)
    return lineno, colno


def _errmsg(msg: str, doc: str, pos: int, end: int | None) -> str:
    lineno, colno = _linecol(doc, pos)
    msg = msg.replace("%r", repr(doc[pos : pos + 1]))
    if end is None:
        return f"{msg}: line {lineno} column {colno} (char {pos})"
    endlineno, endcolno = _linecol(doc, end)
    return f"{msg}: line {lineno} column {colno} - line {endlineno} column {endcolno} (char {pos} - {end})"


def _scan_hex(s: str, pos: int) -> int:
    """The 4 hex digits at ``pos`` (just after ``\\u``)."""
    digits = s[pos : pos + 4]
    if _HEX4(digits) is None:
        raise _Located("Invalid \\uXXXX escape sequence", pos - 2)
    return int(digits, 16)


def _scan_string(s: str, end: int) -> int:
    """Validate the string whose opening quote is at ``end - 1``; return the index after it."""
    begin = end - 1
    n = len(s)
    while True:
        pos = _STRING_CHUNK(s, end).end()  # type: ignore[union-attr]
        if pos >= n:
            raise _Located("Unterminated string starting at", begin)
        terminator = s[pos]
        if terminator == '"':
            return pos + 1
        if terminator != "\\":
            raise _Located("Invalid control character %r at", pos)
        if pos + 1 >= n:
            raise _Located("Unterminated string starting at", begin)
        esc = s[pos + 1]
        if esc != "u":
            if esc not in _ESCAPES:
                raise _Located("Invalid \\X escape sequence %r", pos + 1)
            end = pos + 2
            continue
        uni = _scan_hex(s, pos + 2)
        end = pos + 6
        if 0xD800 <= uni <= 0xDBFF and s[end : end + 2] == "\\u":
            low = _scan_hex(s, end + 2)
            if 0xDC00 <= low <= 0xDFFF:
                end += 6


def _scan_scalar(s: str, idx: int) -> int:
    """Validate a non-container value at ``idx``; return the index after it."""
    nextchar = s[idx : idx + 1]
    if nextchar == '"':
        return _scan_string(s, idx + 1)
    if nextchar == "n" and s.startswith("null", idx):
        return idx + 4
    if nextchar == "t" and s.startswith("true", idx):
        return idx + 4
    if nextchar == "f" and s.startswith("false", idx):
        return idx + 5
    m = _NUMBER(s, idx)
    if m is None:
        raise _Located("Expecting value", idx)
    integer, frac, exp = m.groups()
    if not frac and not exp:
        int(integer)  # the int() digit limit applies as when decoding for real
    return m.end()


def _validate(s: str, idx: int) -> None:
    """Walk the document like simplejson's scanner (without recursion) and raise its first error."""
    stack: list[str] = []
    end = _skip_ws(s, idx).end()  # type: ignore[union-attr]
    expect_value = True  # False: a value just ended at ``end``
    while True:
        if expect_value:
            nextchar = s[end : end + 1]
            if nextchar == "[":
                end += 1
                nextchar = s[end : end + 1]
                if nextchar in _WS:
                    end = _skip_ws(s, end + 1).end()  # type: ignore[union-attr]
                    nextchar = s[end : end + 1]
                if nextchar == "]":
                    end += 1
                    expect_value = False
                elif nextchar == "":
                    raise _Located("Expecting value or ']'", end)
                else:
                    stack.append("[")
                continue
            if nextchar == "{":
                end += 1
                nextchar = s[end : end + 1]
                if nextchar != '"':
                    if nextchar in _WS:
                        end = _skip_ws(s, end).end()  # type: ignore[union-attr]
                        nextchar = s[end : end + 1]
                    if nextchar == "}":
                        end += 1
                        expect_value = False
                        continue
                    if nextchar != '"':
                        raise _Located("Expecting property name enclosed in double quotes or '}'", end)
                stack.append("{")
                end = _object_key(s, end + 1)
                continue
            end = _scan_scalar(s, end)
            expect_value = False
            continue

        if not stack:
            end = _skip_ws(s, end).end()  # type: ignore[union-attr]
            if end != len(s):
                raise _Located("Extra data", end, len(s))
            return
        end = _skip_ws(s, end).end()  # type: ignore[union-attr]
        nextchar = s[end : end + 1]
        end += 1
        if stack[-1] == "[":
            if nextchar == "]":
                stack.pop()
                continue
            if nextchar != ",":
                raise _Located("Expecting ',' delimiter or ']'", end - 1)
            comma_idx = end - 1
            end = _skip_ws(s, end).end()  # type: ignore[union-attr]
            if s[end : end + 1] == "]":
                raise _Located("Illegal trailing comma before end of array", comma_idx)
            expect_value = True
            continue
        if nextchar == "}":
            stack.pop()
            continue
        if nextchar != ",":
            raise _Located("Expecting ',' delimiter or '}'", end - 1)
        comma_idx = end - 1
        end = _skip_ws(s, end).end()  # type: ignore[union-attr]
        nextchar = s[end : end + 1]
        end += 1
        if nextchar != '"':
            if nextchar == "}":
                raise _Located("Illegal trailing comma before end of object", comma_idx)
            raise _Located("Expecting property name enclosed in double quotes", end - 1)
        end = _object_key(s, end)
        expect_value = True


def _object_key(s: str, end: int) -> int:
    """Validate ``"key":`` (``end`` is just after the opening quote); return where the value starts."""
    end = _scan_string(s, end)
    if s[end : end + 1] != ":":
        end = _skip_ws(s, end).end()  # type: ignore[union-attr]
        if s[end : end + 1] != ":":
            raise _Located("Expecting ':' delimiter", end)
    return _skip_ws(s, end + 1).end()  # type: ignore[union-attr]


def decode_error(s: str, start: int) -> Exception:
    """The exception ``simplejson.loads`` raises for ``s`` (decoding begins at ``start``, after a BOM)."""
    try:
        _validate(s, start)
    except _Located as e:
        return ValueError(_errmsg(e.msg, s, e.pos, e.end))
    except ValueError as e:
        return e
    return ValueError("Expecting value: line 1 column 1 (char 0)")  # unreachable for rejected input
