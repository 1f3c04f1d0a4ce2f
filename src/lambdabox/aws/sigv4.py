"""AWS Signature Version 4, the server side: parse what a request presents, rebuild its canonical request
exactly as botocore's signers do, and check the signature in constant time.

Three forms are verified:
- the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header (SigV4Auth,
  S3SigV4Auth): X-Amz-Date (or Date) within 15 minutes of the server's clock;
- presigned URLs, `X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders/Signature` in the query string
  (SigV4QueryAuth, S3SigV4QueryAuth): X-Amz-Expires at most 7 days, refused once expired;
- S3's `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` bodies (`ChunkSignatures`): each chunk's signature
  chains from the previous one, starting with the seed signature of the request; the trailer's too.

Canonical request (botocore/auth.py): the path is the request's path once percent-encoded (S3) or
normalized and encoded twice (every other service); the query string is each name and value decoded, then
encoded with only `A-Za-z0-9-_.~` left bare, sorted; each signed header's values are trimmed (inner runs
of whitespace become one space) and joined with commas; the payload hash is `x-amz-content-sha256` when
sent, else the SHA-256 of the body (S3's presigned URLs: `UNSIGNED-PAYLOAD`).

Nothing here knows a service's error codes: failures are `SignatureError`s carrying a `Problem` and the
details each service words its own error from. Secrets are only ever used as HMAC keys.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from botocore.utils import normalize_url_path

from lambdabox.aws.wire import WireRequest
from lambdabox.core.identity import AccessKey, CredentialStore

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINAL = "aws4_request"
MAX_SKEW_SECONDS = 15 * 60
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_UNRESERVED = "-_.~"
_QUERY_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
# S3 refuses a request that carries these headers without signing them (they change what is stored).
S3_MUST_SIGN_PREFIXES = ("x-amz-copy", "x-amz-acl", "x-amz-grant", "x-amz-meta")


class Problem(enum.Enum):
    MALFORMED = "malformed"  # the Authorization header or the query parameters cannot be read
    UNSUPPORTED = "unsupported"  # Signature Version 2, SigV4a: not accepted
    BAD_DATE = "bad-date"  # no (readable) X-Amz-Date / Date
    CREDENTIAL_DATE = "credential-date"  # the scope's day is not X-Amz-Date's
    REGION = "region"
    SERVICE = "service"
    TERMINAL = "terminal"
    SKEWED = "skewed"  # header form: request time more than 15 minutes from the server's
    EXPIRES = "expires"  # presigned: X-Amz-Expires missing, not a number, negative or over 7 days
    EXPIRED = "expired"  # presigned: past X-Amz-Date + X-Amz-Expires
    UNKNOWN_KEY = "unknown-key"
    BAD_TOKEN = "bad-token"  # X-Amz-Security-Token missing, unexpected or wrong
    EXPIRED_TOKEN = "expired-token"  # temporary credentials (STS) past their expiration
    PAYLOAD_HASH_MISSING = "payload-hash-missing"  # S3 header form without x-amz-content-sha256
    UNSIGNED_HEADERS = "unsigned-headers"  # S3: x-amz-meta-* and friends present but not signed
    SIGNATURE = "signature"  # the signature does not match


class SignatureError(Exception):
    """Why a request's signature was refused. `message` is a neutral description; `details` hold what the
    services put into their error documents (all strings, none of them secret)."""

    def __init__(self, problem: Problem, message: str, form: str = "header", **details: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.form = form  # "header" | "query"
        self.details = details


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request a signature covers, exactly as they arrived."""

    method: str
    raw_path: str  # percent-encoded, without the query string
    query_string: str  # raw
    headers: Sequence[tuple[str, str]]  # (lower-case name, value), in arrival order, repeats kept

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Scope:
    access_key_id: str
    date: str
    region: str
    service: str
    terminal: str

    @property
    def value(self) -> str:
        """`date/region/service/aws4_request`, as it appears in the string to sign."""
        return f"{self.date}/{self.region}/{self.service}/{self.terminal}"


@dataclass(frozen=True)
class Presented:
    """What a request claims: its credential scope, the headers it signed, its signature and time."""

    form: str  # "header" | "query"
    scope: Scope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    expires: str | None  # presigned only, as sent
    security_token: str | None


@dataclass(frozen=True)
class Verified:
    key: AccessKey
    presented: Presented
    signing_key: bytes = field(repr=False)

    def chunk_signatures(self) -> ChunkSignatures:
        p = self.presented
        return ChunkSignatures(self.signing_key, p.amz_date, p.scope.value, p.signature)


# -- what the request presents -----------------------------------------------------------------------
def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((_decode(name), _decode(value)))
    return pairs


def _decode(text: str) -> str:
    return unquote_to_bytes(text.encode("latin-1", "replace")).decode("utf-8", "replace")


@lru_cache(maxsize=256)
def _scope(credential: str, form: str) -> Scope:
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        where = (
            "The authorization header is malformed"
            if form == "header"
            else "Error parsing the X-Amz-Credential parameter"
        )
        raise SignatureError(
            Problem.MALFORMED,
            f'{where}; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            form,
        )
    return Scope(*parts)


@lru_cache(maxsize=256)
def _components(authorization: str) -> dict[str, str]:
    """`Credential=…, SignedHeaders=…, Signature=…` of an Authorization header (read only: it is shared)."""
    components: dict[str, str] = {}
    for part in authorization[len(ALGORITHM) + 1 :].split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            components[name] = value.strip()
    return components


def _header_form(authorization: str, request: SignedRequest) -> Presented:
    if not authorization.startswith(ALGORITHM + " "):
        raise SignatureError(
            Problem.MALFORMED,
            "The authorization header is malformed; the authorization mechanism is not AWS4-HMAC-SHA256.",
        )
    components = _components(authorization)
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not components.get(name)]
    if missing:
        raise SignatureError(
            Problem.MALFORMED,
            "The authorization header is malformed; the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature.",
            missing=",".join(missing),
        )
    amz_date = request.header("x-amz-date")
    if amz_date is None:
        date = request.header("date")
        amz_date = _from_http_date(date) if date is not None else None
    if amz_date is None:
        raise SignatureError(
            Problem.BAD_DATE, "AWS authentication requires a valid Date or x-amz-date header"
        )
    return Presented(
        "header",
        _scope(components["Credential"], "header"),
        tuple(components["SignedHeaders"].split(";")),
        components["Signature"],
        amz_date.strip(),
        None,
        request.header("x-amz-security-token"),
    )


def _query_form(params: Mapping[str, str]) -> Presented:
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureError(
            Problem.UNSUPPORTED,
            'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
            "query",
            algorithm=params.get("X-Amz-Algorithm", ""),
        )
    if any(not params.get(name) for name in _QUERY_PARAMETERS if name != "X-Amz-Expires") or (
        "X-Amz-Expires" not in params
    ):
        raise SignatureError(
            Problem.MALFORMED,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            "query",
        )
    return Presented(
        "query",
        _scope(params["X-Amz-Credential"], "query"),
        tuple(params["X-Amz-SignedHeaders"].split(";")),
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        params["X-Amz-Expires"],
        params.get("X-Amz-Security-Token"),
    )


def presented(request: SignedRequest) -> Presented | None:
    """The signature a request carries; None for an anonymous request."""
    authorization = request.header("authorization")
    query = dict(_query_pairs(request.query_string)) if "X-Amz-" in request.query_string else {}
    signed_query = "X-Amz-Algorithm" in query or "X-Amz-Credential" in query
    if authorization is not None and signed_query:
        raise SignatureError(
            Problem.MALFORMED,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
            "string parameter or the Authorization header should be specified",
        )
    if authorization is not None:
        if authorization.startswith("AWS ") or authorization.startswith("AWS4-ECDSA-P256-SHA256"):
            raise SignatureError(
                Problem.UNSUPPORTED,
                "The authorization mechanism you have provided is not supported. Please use "
                "AWS4-HMAC-SHA256.",
            )
        return _header_form(authorization, request)
    if signed_query:
        return _query_form(query)
    if "Signature=" in request.query_string and "AWSAccessKeyId=" in request.query_string:
        raise SignatureError(
            Problem.UNSUPPORTED,
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            "query",
        )
    return None


def _from_http_date(text: str) -> str | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(AMZ_DATE_FORMAT)


@lru_cache(maxsize=256)  # checked twice per request, and a signed request is often replayed
def parse_amz_date(text: str) -> float | None:
    """`yyyymmddThhmmssZ` as epoch seconds (strptime is slow for a per-request check)."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        return None
    try:
        moment = datetime(
            int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), int(text[13:15])
        )
    except ValueError:
        return None
    return calendar.timegm(moment.timetuple())


def amz_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(AMZ_DATE_FORMAT)


# -- the canonical request ---------------------------------------------------------------------------
def _encode(data: bytes | str) -> str:
    return quote(data, safe=_UNRESERVED)


@lru_cache(maxsize=1024)
def canonical_path(raw_path: str, *, s3: bool) -> str:
    """S3: each segment decoded and encoded once, nothing normalized. Others: dot segments and empty
    segments removed, then each segment encoded twice (botocore quotes the already-encoded path)."""
    path = raw_path or "/"
    if not s3:
        path = normalize_url_path(path)
    segments = [
        _encode(unquote_to_bytes(segment.encode("latin-1", "replace"))) for segment in path.split("/")
    ]
    if not s3:
        segments = [_encode(segment) for segment in segments]
    return "/".join(segments)


def canonical_query(query_string: str, *, without: str | None = None) -> str:
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        raw_name = unquote_to_bytes(name.encode("latin-1", "replace"))
        if without is not None and raw_name == without.encode():
            continue
        pairs.append((_encode(raw_name), _encode(unquote_to_bytes(value.encode("latin-1", "replace")))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(request: SignedRequest, signed: Sequence[str]) -> str | None:
    """`name:value\\n` for each signed header; None when one of them is not in the request."""
    wanted = set(signed)
    values: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name in wanted:
            values.setdefault(name, []).append(" ".join(value.split()))
    if len(values) != len(wanted):
        return None
    return "".join(f"{name}:{','.join(values[name])}\n" for name in signed)


def canonical_request(
    request: SignedRequest, presented: Presented, payload_hash: str, *, s3: bool
) -> str | None:
    headers = canonical_headers(request, presented.signed_headers)
    if headers is None:
        return None
    without = "X-Amz-Signature" if presented.form == "query" else None
    return "\n".join(
        [
            request.method.upper(),
            canonical_path(request.raw_path, s3=s3),
            canonical_query(request.query_string, without=without),
            headers,
            ";".join(presented.signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(amz_date_text: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date_text}\n{scope}\n{digest}"


@lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, TERMINAL):
        key = hmac.digest(key, part.encode("utf-8"), "sha256")
    return key


def sign(key: bytes, text: str) -> str:
    return hmac.digest(key, text.encode("utf-8"), "sha256").hex()


def _matches(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii", "replace"), provided.encode("ascii", "replace"))


# -- verification ------------------------------------------------------------------------------------
class Verifier:
    """Checks SigV4 signatures against a credential store, for one platform region."""

    def __init__(
        self, credentials: CredentialStore, region: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._credentials = credentials
        self.region = region
        self._clock = clock

    def signer_of(
        self,
        request: WireRequest,
        service: str,
        *,
        body: bytes | None = None,
        other_region: Callable[[], str | None] | None = None,
    ) -> Verified | None:
        """Who signed a request (header or query form); None when it carries no signature. Raises
        SignatureError when its signature is malformed or wrong. `body`: the whole body, when it was read."""
        signed = SignedRequest(request.method, request.raw_path, request.query_string, request.header_pairs)
        claim = presented(signed)
        if claim is None:
            return None
        return self.verify(signed, claim, service, body=body, other_region=other_region)

    def verify(
        self,
        request: SignedRequest,
        presented: Presented,
        service: str,
        *,
        s3: bool = False,
        body: bytes | None = None,
        other_region: Callable[[], str | None] | None = None,
    ) -> Verified:
        """`body`: the whole body, for services that read it before the call (its hash is signed).
        `other_region`: a region also accepted in the scope (S3: the addressed bucket's)."""
        form = presented.form
        scope = presented.scope
        self._check_scope(presented, service, other_region)
        self._check_time(presented)
        key = self._key(presented)
        if s3:
            _check_s3_signed_headers(request, presented)
        payload = _payload_hash(request, presented, s3=s3, body=body)
        canonical = canonical_request(request, presented, payload, s3=s3)
        derived = signing_key(key.secret_access_key, scope.date, scope.region, scope.service)
        to_sign = string_to_sign(presented.amz_date, scope.value, canonical or "")
        if canonical is None or not _matches(sign(derived, to_sign), presented.signature):
            raise SignatureError(
                Problem.SIGNATURE,
                "The request signature we calculated does not match the signature you provided.",
                form,
                access_key_id=scope.access_key_id,
                canonical_request=canonical or "",
                string_to_sign=to_sign,
                signature_provided=presented.signature,
            )
        return Verified(key, presented, derived)

    def verify_policy(self, fields: Mapping[str, str], service: str = "s3") -> AccessKey:
        """A browser form upload (S3 POST) signed with SigV4: `x-amz-signature` is the HMAC of the base64
        `policy` with the signing key of `x-amz-credential`'s scope. `fields`: lower-case names. The
        policy's own expiration replaces the clock check; its conditions are the caller's to enforce."""
        if fields.get("x-amz-algorithm") != ALGORITHM:
            raise SignatureError(
                Problem.UNSUPPORTED,
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
                "query",
                algorithm=fields.get("x-amz-algorithm", ""),
            )
        claim = Presented(
            "query",
            _scope(fields.get("x-amz-credential", ""), "query"),
            (),
            fields.get("x-amz-signature", ""),
            fields.get("x-amz-date", ""),
            None,
            fields.get("x-amz-security-token"),
        )
        self._check_scope(claim, service, None)
        key = self._key(claim)
        scope = claim.scope
        derived = signing_key(key.secret_access_key, scope.date, scope.region, scope.service)
        policy = fields.get("policy", "")
        if not _matches(sign(derived, policy), claim.signature):
            raise SignatureError(
                Problem.SIGNATURE,
                "The request signature we calculated does not match the signature you provided.",
                "query",
                access_key_id=scope.access_key_id,
                canonical_request="",
                string_to_sign=policy,
                signature_provided=claim.signature,
            )
        return key

    def _key(self, presented: Presented) -> AccessKey:
        form, scope = presented.form, presented.scope
        key = self._credentials.lookup(scope.access_key_id)
        if key is None:
            raise SignatureError(
                Problem.UNKNOWN_KEY,
                "The AWS Access Key Id you provided does not exist in our records.",
                form,
                access_key_id=scope.access_key_id,
            )
        token, expected_token = presented.security_token or None, key.session_token
        if (token is None) != (expected_token is None) or (
            token is not None and expected_token is not None and not _matches(expected_token, token)
        ):
            raise SignatureError(
                Problem.BAD_TOKEN, "The security token included in the request is invalid.", form
            )
        if key.expired:
            raise SignatureError(
                Problem.EXPIRED_TOKEN, "The security token included in the request is expired", form
            )
        return key

    def _check_scope(
        self, presented: Presented, service: str, other_region: Callable[[], str | None] | None
    ) -> None:
        scope, form = presented.scope, presented.form
        day = presented.amz_date[:8]
        if parse_amz_date(presented.amz_date) is None:
            raise SignatureError(
                Problem.BAD_DATE, "AWS authentication requires a valid Date or x-amz-date header", form
            )
        if scope.date != day:
            raise SignatureError(
                Problem.CREDENTIAL_DATE,
                f'Invalid credential date "{scope.date}". This date is not the same as X-Amz-Date: "{day}".',
                form,
                provided=scope.date,
                expected=day,
                amz_date=presented.amz_date,
            )
        if scope.region != self.region:
            alternative = other_region() if other_region is not None else None
            if scope.region != alternative:
                expected = alternative or self.region
                raise SignatureError(
                    Problem.REGION,
                    f"the region '{scope.region}' is wrong; expecting '{expected}'",
                    form,
                    provided=scope.region,
                    expected=expected,
                )
        if scope.service != service:
            raise SignatureError(
                Problem.SERVICE,
                f'incorrect service "{scope.service}". This endpoint belongs to "{service}".',
                form,
                provided=scope.service,
                expected=service,
            )
        if scope.terminal != TERMINAL:
            raise SignatureError(
                Problem.TERMINAL,
                f'incorrect terminal "{scope.terminal}". This endpoint uses "{TERMINAL}".',
                form,
                provided=scope.terminal,
                expected=TERMINAL,
            )

    def _check_time(self, presented: Presented) -> None:
        signed_at = parse_amz_date(presented.amz_date)
        assert signed_at is not None  # checked with the scope
        now = self._clock()
        if presented.form == "header":
            if abs(now - signed_at) > MAX_SKEW_SECONDS:
                raise SignatureError(
                    Problem.SKEWED,
                    "The difference between the request time and the current time is too large.",
                    request_time=presented.amz_date,
                    server_time=amz_date(now),
                    earliest=amz_date(now - MAX_SKEW_SECONDS),
                    latest=amz_date(now + MAX_SKEW_SECONDS),
                    later="1" if signed_at > now else "",
                )
            return
        text = presented.expires or ""
        problem = None
        try:
            expires = int(text)
        except ValueError:
            problem = "X-Amz-Expires should be a number"
        else:
            if expires < 0:
                problem = "X-Amz-Expires must be non-negative"
            elif expires > MAX_EXPIRES_SECONDS:
                problem = (
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
                    f"must be less than {MAX_EXPIRES_SECONDS} seconds"
                )
        if problem is not None:
            raise SignatureError(Problem.EXPIRES, problem, "query", expires=text)
        if signed_at + expires < now:
            raise SignatureError(
                Problem.EXPIRED,
                "Request has expired",
                "query",
                expires=text,
                expired_at=datetime.fromtimestamp(signed_at + expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                server_time=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )


def _payload_hash(request: SignedRequest, presented: Presented, *, s3: bool, body: bytes | None) -> str:
    declared = request.header("x-amz-content-sha256")
    if declared is not None:
        if body is not None and len(declared) == 64 and declared.lower() != hashlib.sha256(body).hexdigest():
            # Services that read the body first: a hash that is not the body's signs some other body.
            return hashlib.sha256(body).hexdigest()
        return declared
    if s3:
        if presented.form == "query":
            return UNSIGNED_PAYLOAD
        raise SignatureError(
            Problem.PAYLOAD_HASH_MISSING, "Missing required header for this request: x-amz-content-sha256"
        )
    return hashlib.sha256(body or b"").hexdigest()


def _check_s3_signed_headers(request: SignedRequest, presented: Presented) -> None:
    signed = set(presented.signed_headers)
    unsigned = sorted(
        {name for name, _ in request.headers if name.startswith(S3_MUST_SIGN_PREFIXES) and name not in signed}
    )
    if unsigned:
        raise SignatureError(
            Problem.UNSIGNED_HEADERS,
            "There were headers present in the request which were not signed",
            presented.form,
            headers_not_signed=", ".join(unsigned),
        )


# -- streaming (aws-chunked) bodies ------------------------------------------------------------------
class ChunkSignatures:
    """The signature chain of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body: each chunk signs
    `AWS4-HMAC-SHA256-PAYLOAD`, the time, the scope, the previous signature, the empty hash and the
    chunk's own hash; the trailer signs `AWS4-HMAC-SHA256-TRAILER` and the hash of its header lines."""

    def __init__(self, key: bytes, amz_date_text: str, scope: str, seed: str) -> None:
        self._key = key
        self._prefix = f"{amz_date_text}\n{scope}\n"
        self._previous = seed

    def check_chunk(self, data_sha256: str, signature: str) -> bool:
        text = f"AWS4-HMAC-SHA256-PAYLOAD\n{self._prefix}{self._previous}\n{EMPTY_SHA256}\n{data_sha256}"
        return self._advance(text, signature)

    def check_trailer(self, trailers: Mapping[str, str], signature: str) -> bool:
        lines = "".join(
            f"{name}:{value}\n"
            for name, value in sorted(trailers.items())
            if name != "x-amz-trailer-signature"
        )
        digest = hashlib.sha256((lines or "\n").encode("utf-8")).hexdigest()
        return self._advance(f"AWS4-HMAC-SHA256-TRAILER\n{self._prefix}{self._previous}\n{digest}", signature)

    def _advance(self, text: str, signature: str) -> bool:
        expected = sign(self._key, text)
        self._previous = expected
        return _matches(expected, signature)
