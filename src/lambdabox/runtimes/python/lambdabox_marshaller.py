"""Event decoding and result encoding, byte-compatible with awslambdaric's simplejson marshaller.

Fast paths use the stdlib C codec; ``lambdabox_json_compat`` (imported on demand) takes over
whenever simplejson would behave differently, so the output and error messages are the same.
"""

from __future__ import annotations

import os
import re
import sys
from json.decoder import JSONDecoder
from json.encoder import encode_basestring, encode_basestring_ascii

try:
    from _json import make_encoder as c_make_encoder
except ImportError:  # not CPython: the compatible encoder does all the work
    c_make_encoder = None  # type: ignore[assignment,misc]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from . import lambdabox_errors
else:
    import lambdabox_errors

_FaultException = lambdabox_errors.FaultException

JSON_CONTENT_TYPE = "application/json"
BYTES_CONTENT_TYPE = "application/unknown"


def ensure_ascii_for(execution_env: str | None) -> bool:
    """awslambdaric escapes non-ASCII characters except on the python3.12+ managed runtimes."""
    prefix = "AWS_Lambda_python3."
    if execution_env and execution_env.startswith(prefix):
        minor = execution_env[len(prefix) :]
        return not (minor.isdigit() and int(minor) >= 12)
    return True


class _NeedCompat(Exception):
    """The fast encoder met a value only the simplejson-compatible encoder handles."""


class _JsonConstant(ValueError):
    """NaN / Infinity / -Infinity in an event: simplejson rejects them."""


def _reject_constant(name: str) -> Any:
    raise _JsonConstant(name)


# Decimals leave the C encoder as '"<mark><digits><mark>"' strings and are unquoted afterwards.
_DECIMAL_MARK = "LbxDecimal" + os.urandom(8).hex()
_DECIMAL_OPEN = '"' + _DECIMAL_MARK
_DECIMAL_CLOSE = _DECIMAL_MARK + '"'
_NAN = float("nan")
_LEAVES = frozenset({str, int, float, bool, type(None)})


def _fast_default(o: Any) -> Any:
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(o, decimal.Decimal):
        return _NAN if o.is_nan() else _DECIMAL_MARK + str(o) + _DECIMAL_MARK
    if isinstance(o, bytes):
        return str(o, "utf-8")
    raise _NeedCompat


def _needs_compat(o: Any) -> bool:
    """Whether a list/tuple/dict subclass with ``_asdict`` (a namedtuple...) is reachable: the C
    encoder would write it as an array/object where simplejson calls ``_asdict()``."""
    stack = [o]
    pop = stack.pop
    push = stack.append
    while stack:
        x = pop()
        t = type(x)
        if t is dict:
            items = x.values()
        elif t is list or t is tuple:
            items = x
        elif isinstance(x, (dict, list, tuple)):
            if callable(getattr(x, "_asdict", None)):
                return True
            items = x.values() if isinstance(x, dict) else x
        else:
            continue
        for item in items:
            if type(item) not in _LEAVES:
                push(item)
    return False


class Marshaller:
    """awslambdaric's ``LambdaMarshaller`` and ``to_json`` for one ``ensure_ascii`` setting."""

    def __init__(self, ensure_ascii: bool) -> None:
        self.ensure_ascii = ensure_ascii
        self._c_encode: Callable[[Any, int], Any] | None = None
        self._new_c_encoder()
        self._raw_decode = JSONDecoder(parse_constant=_reject_constant).raw_decode
        self._skip_ws = re.compile(r"[ \t\n\r]*").match

    def _new_c_encoder(self) -> None:
        # A fresh encoder (and circular-reference markers) after any failure.
        if c_make_encoder is not None:
            quote = encode_basestring_ascii if self.ensure_ascii else encode_basestring
            self._c_encode = c_make_encoder({}, _fast_default, quote, None, ": ", ", ", False, False, True)

    def to_json(self, o: Any) -> str:
        """JSON text exactly as simplejson writes it (default separators, NaN allowed)."""
        c_encode = self._c_encode
        if c_encode is None:
            return self._compat_encode(o)
        try:
            out = "".join(c_encode(o, 0))
        except RecursionError:  # same message as simplejson's
            self._new_c_encoder()
            raise
        except Exception:
            self._new_c_encoder()
            return self._compat_encode(o)
        except BaseException:
            self._new_c_encoder()
            raise
        # Scanned only now: the C encoder has ruled out cycles, so the walk terminates.
        if _needs_compat(o):
            return self._compat_encode(o)
        if _DECIMAL_MARK in out:
            out = out.replace(_DECIMAL_OPEN, "").replace(_DECIMAL_CLOSE, "")
        return out

    def _compat_encode(self, o: Any) -> str:
        if TYPE_CHECKING:
            from . import lambdabox_json_compat
        else:
            import lambdabox_json_compat
        return lambdabox_json_compat.encode(o, self.ensure_ascii)

    def marshal_response(self, response: Any) -> tuple[bytes | str, str]:
        """(body, content type): bytes pass through as ``application/unknown``; the rest is JSON."""
        if isinstance(response, bytes):
            return response, BYTES_CONTENT_TYPE
        try:
            return self.to_json(response), JSON_CONTENT_TYPE
        except Exception as e:
            raise _FaultException(
                _FaultException.MARSHAL_ERROR, f"Unable to marshal response: {e}", None
            ) from None

    def unmarshal_request(self, request: bytes, content_type: str | None = JSON_CONTENT_TYPE) -> Any:
        """The event: JSON-decoded only when the content type is exactly ``application/json``."""
        if content_type != JSON_CONTENT_TYPE:
            return request
        try:
            return self._decode(request)
        except Exception as e:
            raise _FaultException(
                _FaultException.UNMARSHAL_ERROR, f"Unable to unmarshal input: {e}", None
            ) from None

    def _decode(self, body: bytes) -> Any:
        s = str(body, "utf-8")
        start = 0
        if s:
            first = s[0]
            if first == "\ufeff":
                start = 1
            elif first == "\xef" and s[:3] == "\xef\xbb\xbf":
                start = 3
        skip_ws = self._skip_ws
        try:
            obj, end = self._raw_decode(s, skip_ws(s, start).end())  # type: ignore[union-attr]
            if skip_ws(s, end).end() == len(s):  # type: ignore[union-attr]
                return obj
        except RecursionError as e:
            raise RecursionError(str(e).replace("from a unicode string", "from a string")) from None
        except ValueError:
            pass
        if TYPE_CHECKING:
            from . import lambdabox_json_compat
        else:
            import lambdabox_json_compat
        raise lambdabox_json_compat.decode_error(s, start)
