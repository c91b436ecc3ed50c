"""Checks: what the probe agents test for each service, and how the answers are judged.

A service lists its checks under ``checks``; each is one of four types, told apart by
``type``: ``http``, ``tcp``, ``dns`` and ``tls``. Every check runs every ``interval``
(default 60s) from each location in ``locations`` (empty: every location that runs probes),
and each probe must finish within ``timeout`` (default 10s, less than the interval).

A check's id is its ``id`` when given, else ``<service>:<type>:<index>`` (see
:func:`check_ids`). Given ids may not contain ``:``, so they never clash with derived ones.

The judging rules are pure functions here, so that adapters only do the I/O:
:func:`status_expected`, :meth:`HttpCheck.body_failure`, :meth:`JsonCondition.failure` and
:func:`normalize_answer`.
"""

from __future__ import annotations

import ipaddress
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    model_serializer,
    model_validator,
)

from slaledger.core.durations import parse_duration
from slaledger.core.model_base import IDENTIFIER, STATUS_CLASSES, StrictModel
from slaledger.core.timebase import US_PER_SECOND

US_PER_MS = 1_000
MIB = 1 << 20
DEFAULT_INTERVAL = 60 * US_PER_SECOND
DEFAULT_TIMEOUT = 10 * US_PER_SECOND

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
JsonScalar = str | int | float | bool | None

_MS = re.compile(r"^(\d+)ms$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_HOST_EXPECTED = "expected a host name or an IP address"


# --- Field types ---------------------------------------------------------------------------


def _check_duration(value: Any) -> int:
    """Microseconds from ``500ms`` or a contract duration (``90s``, ``5m``, ``48h``, ``30d``)."""
    expected = "expected a duration like 500ms, 10s or 5m"
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int):
            raise ValueError(f"expected a duration with a unit (500ms, 10s, 5m), got {value!r}")
        raise ValueError(f"{expected}, got {value!r}")
    match = _MS.match(value.strip())
    if match is not None:
        return int(match.group(1)) * US_PER_MS
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f"{expected}, got {value!r}") from None


def format_check_duration(us: int) -> str:
    """``10s``, ``5m`` or ``500ms``: the largest unit that writes ``us`` exactly."""
    for suffix, unit in (("h", 3600 * US_PER_SECOND), ("m", 60 * US_PER_SECOND)):
        if us % unit == 0 and us >= unit:
            return f"{us // unit}{suffix}"
    if us % US_PER_SECOND == 0:
        return f"{us // US_PER_SECOND}s"
    return f"{us // US_PER_MS}ms" if us % US_PER_MS == 0 else f"{us}us"


CheckDuration = Annotated[
    int, BeforeValidator(_check_duration), PlainSerializer(format_check_duration)
]
"""Integer microseconds, written ``500ms``, ``10s``, ``5m``, ``1h``."""


def _status_pattern(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    if isinstance(value, str) and value.strip().lower() in STATUS_CLASSES:
        return value.strip().lower()
    raise ValueError(
        "expected an HTTP status code from 100 to 599 or a class 1xx, 2xx, 3xx, 4xx or 5xx, "
        f"got {value!r}"
    )


StatusPattern = Annotated[int | str, BeforeValidator(_status_pattern)]
"""An HTTP status code (``204``) or a class (``2xx``)."""


def _strings(value: Any) -> Any:
    """One string stands for a list of one."""
    return [value] if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("expected a non-empty string")
    return value


def _host(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.removesuffix(".")
    if name and len(name) <= 253 and all(_LABEL.match(label) for label in name.split(".")):
        return name
    raise ValueError(f"{_HOST_EXPECTED}, got {value!r}")


def _identifier(what: str, example: str) -> Any:
    def check(value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"expected {what} like {example}, got {value!r}")
        return value

    return AfterValidator(check)


def _no_repeats(value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        if value.count(item) > 1:
            raise ValueError(f"{item!r} is listed more than once")
    return value


def _url(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {url!r}")
    if any(char.isspace() for char in url):
        raise ValueError(f"expected a URL without spaces, got {url!r}")
    if port == 0:
        raise ValueError(f"expected a port from 1 to 65535, got {url!r}")
    return url


def _headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not _TOKEN.match(name):
            raise ValueError(f"expected header names like X-Api-Key, got {name!r}")
        if "\r" in text or "\n" in text:
            raise ValueError(f"expected header values on one line, got {text!r} for {name}")
    return value


def _some_statuses(value: tuple[int | str, ...]) -> tuple[int | str, ...]:
    if not value:
        raise ValueError("expected at least one status code or class, like [200] or [2xx]")
    return value


def _dns_name(value: str) -> str:
    try:
        _host(value)
    except ValueError:
        raise ValueError(f"expected a DNS name like api.example.com, got {value!r}") from None
    return value


def _server(value: str) -> str:
    server_address(value)
    return value


def _json_path(value: str) -> str:
    if not value or any(not part for part in value.split(".")):
        raise ValueError(f"expected a field path like status.db, got {value!r}")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression {value!r}: {error}") from None
    return value


Host = Annotated[str, AfterValidator(_host)]
"""A DNS name (``api.example.com``) or an IP address (``10.0.0.1``, ``::1``)."""
Port = Annotated[int, Field(ge=1, le=65535)]
Substrings = Annotated[
    tuple[Annotated[str, AfterValidator(_non_empty)], ...], BeforeValidator(_strings)
]
"""A list of non-empty strings; a single string is a list of one."""


# --- Checks --------------------------------------------------------------------------------


class CheckBase(StrictModel):
    """What every check has: its id, how often it runs, its deadline and where it runs."""

    id: Annotated[str, _identifier("a check id", "homepage or api-health")] | None = None
    interval: Annotated[CheckDuration, Field(gt=0)] = DEFAULT_INTERVAL
    timeout: Annotated[CheckDuration, Field(gt=0)] = DEFAULT_TIMEOUT
    locations: Annotated[
        tuple[Annotated[str, _identifier("a location name", "fra or us-east")], ...],
        AfterValidator(_no_repeats),
    ] = ()

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> CheckBase:
        if self.timeout >= self.interval:
            raise ValueError(
                f"timeout ({format_check_duration(self.timeout)}) must be shorter than "
                f"interval ({format_check_duration(self.interval)})"
            )
        return self

    def runs_at(self, location: str) -> bool:
        """Whether a probe agent at ``location`` runs this check."""
        return not self.locations or location in self.locations


class JsonCondition(StrictModel):
    """A test on one field of a JSON response body.

    ``path`` is a dotted path (``status.db``; a segment of digits indexes an array:
    ``items.0.state``). Exactly one condition is given: ``equals``, ``not_equals``,
    ``one_of`` (a list of values), ``exists`` (true or false) or ``matches`` (a regular
    expression searched in a string field). Values compare by JSON type: ``1`` is not
    ``"1"`` and ``true`` is not ``1``.
    """

    path: Annotated[str, AfterValidator(_json_path)]
    equals: JsonScalar = None
    not_equals: JsonScalar = None
    one_of: tuple[JsonScalar, ...] | None = None
    exists: bool | None = None
    matches: Annotated[str, AfterValidator(_regex)] | None = None

    @model_serializer(mode="plain")
    def _path_and_condition(self) -> dict[str, Any]:
        return {"path": self.path, self.condition: getattr(self, self.condition)}

    @property
    def condition(self) -> str:
        """The name of the one condition given."""
        return next(name for name in _JSON_CONDITIONS if name in self.model_fields_set)

    @model_validator(mode="after")
    def _one_condition(self) -> JsonCondition:
        given = [name for name in _JSON_CONDITIONS if name in self.model_fields_set]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(
                "expected exactly one condition of equals, not_equals, one_of, exists or "
                f"matches, got {found}"
            )
        return self

    def failure(self, document: Any) -> str | None:
        """Why the parsed JSON ``document`` fails the condition, or None when it holds."""
        found, value = _lookup(document, self.path)
        condition = self.condition
        if condition == "exists":
            if found != self.exists:
                return f"JSON field {self.path} {'is missing' if self.exists else 'exists'}"
            return None
        if not found:
            return f"JSON field {self.path} is missing"
        shown = json.dumps(value)[:80]
        if condition == "equals" and not _same(value, self.equals):
            return f"JSON field {self.path} is {shown}, expected {json.dumps(self.equals)}"
        if condition == "not_equals" and _same(value, self.not_equals):
            return f"JSON field {self.path} is {shown}, expected anything else"
        if condition == "one_of" and not any(_same(value, v) for v in self.one_of or ()):
            return f"JSON field {self.path} is {shown}, expected one of {json.dumps(self.one_of)}"
        if condition == "matches" and not (
            isinstance(value, str) and re.search(self.matches or "", value)
        ):
            return f"JSON field {self.path} is {shown}, expected a match of {self.matches!r}"
        return None


_JSON_CONDITIONS = ("equals", "not_equals", "one_of", "exists", "matches")


def _lookup(document: Any, path: str) -> tuple[bool, Any]:
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, and numbers are not strings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


with warnings.catch_warnings():
    # The contract key is ``json``; the deprecated BaseModel.json() method is not used.
    warnings.filterwarnings("ignore", message='Field name "json"', category=UserWarning)

    class HttpCheck(CheckBase):
        """An HTTP(S) request whose response must have an expected status and body.

        The body is read up to ``max_body_bytes``; body tests see that prefix only, and a
        JSON test fails when the body was cut there. Redirects are not followed unless
        ``follow_redirects``; then the final response is judged.
        """

        type: Literal["http"]
        method: Annotated[HttpMethod, BeforeValidator(_upper)] = "GET"
        url: Annotated[str, AfterValidator(_url)]
        headers: Annotated[dict[str, str], AfterValidator(_headers)] = Field(default_factory=dict)
        body: str | None = None
        expect_status: Annotated[tuple[StatusPattern, ...], AfterValidator(_some_statuses)] = (
            "2xx",
            "3xx",
        )
        body_contains: Substrings = ()
        body_not_contains: Substrings = ()
        json: JsonCondition | None = None  # type: ignore[assignment]
        follow_redirects: bool = False
        verify_tls: bool = True
        max_body_bytes: Annotated[int, Field(gt=0)] = MIB

        def body_failure(self, body: bytes, complete: bool) -> str | None:
            """Why ``body`` fails the body tests, or None; ``complete``: not cut short."""
            for text in self.body_contains:
                if text.encode() not in body:
                    return f"body does not contain {text!r}"
            for text in self.body_not_contains:
                if text.encode() in body:
                    return f"body contains {text!r}"
            if self.json is None:
                return None
            if not complete:
                return f"body is longer than max_body_bytes ({self.max_body_bytes}), not parsed"
            try:
                document = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return "body is not JSON"
            return self.json.failure(document)


class TcpCheck(CheckBase):
    """A TCP connection to ``host:port`` must be accepted."""

    type: Literal["tcp"]
    host: Host
    port: Port


class DnsCheck(CheckBase):
    """A DNS query for ``name`` must be answered with records of ``record_type``.

    Every ``expected`` value must be among the answers (other records may come too).
    ``server`` is ``host[:port]`` of the server to ask (an IP address; ``[v6]:port``);
    without it the system's resolver configuration is used.
    """

    type: Literal["dns"]
    name: Annotated[str, AfterValidator(_dns_name)]
    record_type: RecordType = "A"
    expected: Substrings = ()
    server: Annotated[str, AfterValidator(_server)] | None = None

    @model_validator(mode="after")
    def _answers_fit_the_type(self) -> DnsCheck:
        for value in self.expected:
            normalize_answer(self.record_type, value)
        return self

    @property
    def server_address(self) -> tuple[str, int] | None:
        return None if self.server is None else server_address(self.server)

    @property
    def normalized_expected(self) -> frozenset[str]:
        return frozenset(normalize_answer(self.record_type, value) for value in self.expected)


class TlsCheck(CheckBase):
    """A TLS handshake whose certificate must verify and stay valid ``min_days_valid`` more.

    ``server_name`` (SNI and the name verified) defaults to ``host``.
    """

    type: Literal["tls"]
    host: Host
    port: Port = 443
    min_days_valid: Annotated[int, Field(ge=0)] = 14
    server_name: Host | None = None

    @property
    def verified_name(self) -> str:
        return self.server_name or self.host


Check = Annotated[HttpCheck | TcpCheck | DnsCheck | TlsCheck, Field(discriminator="type")]
"""One check of any type."""


def _unique_ids(checks: tuple[Any, ...]) -> tuple[Any, ...]:
    ids = [check.id for check in checks if check.id is not None]
    for check_id in ids:
        if ids.count(check_id) > 1:
            raise ValueError(f"check id {check_id!r} is used more than once")
    return checks


Checks = Annotated[tuple[Check, ...], AfterValidator(_unique_ids)]
"""A service's checks; given ids are unique."""


# --- Ids, statuses, DNS answers ------------------------------------------------------------


def check_id(service: str, index: int, check: CheckBase) -> str:
    """The id of ``service``'s check at ``index``: its own, else ``<service>:<type>:<index>``."""
    if check.id is not None:
        return check.id
    kind: str = getattr(check, "type", "check")
    return f"{service}:{kind}:{index}"


def check_ids(service: str, checks: Sequence[CheckBase]) -> tuple[str, ...]:
    """The ids of one service's checks, in order."""
    return tuple(check_id(service, index, check) for index, check in enumerate(checks))


def duplicate_check_ids(checks_by_service: Mapping[str, Sequence[CheckBase]]) -> list[str]:
    """Ids used by more than one check of a contract (given ids across services)."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for service, checks in checks_by_service.items():
        for identifier in check_ids(service, checks):
            if identifier in seen and identifier not in duplicates:
                duplicates.append(identifier)
            seen.add(identifier)
    return duplicates


def status_expected(patterns: Sequence[int | str], status: int) -> bool:
    """Whether ``status`` is one of ``patterns`` (codes like 204, classes like ``2xx``)."""
    for pattern in patterns:
        if isinstance(pattern, int):
            if status == pattern:
                return True
        elif status // 100 == int(pattern[0]):
            return True
    return False


def describe_statuses(patterns: Sequence[int | str]) -> str:
    """``2xx or 3xx``, ``200, 204 or 3xx``."""
    texts = [str(pattern) for pattern in patterns]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


def normalize_answer(record_type: str, text: str) -> str:
    """A DNS answer in the form answers are compared in; ``ValueError`` when malformed.

    A and AAAA: the address (``2001:db8::1``); CNAME and NS: the name in lower case without
    the final dot; MX: ``<preference> <name>``; TXT: the text, unchanged.
    """
    value = text.strip()
    if record_type in ("A", "AAAA"):
        version = 4 if record_type == "A" else 6
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version != version:
            raise ValueError(f"expected an IPv{version} address for {record_type}, got {text!r}")
        return str(address)
    if record_type in ("CNAME", "NS"):
        return _answer_name(record_type, value, text)
    if record_type == "MX":
        preference, _, name = value.partition(" ")
        if not preference.isdigit() or int(preference) > 65535:
            raise ValueError(f"expected MX answers like '10 mail.example.com', got {text!r}")
        return f"{int(preference)} {_answer_name(record_type, name.strip(), text)}"
    return text


def _answer_name(record_type: str, value: str, text: str) -> str:
    try:
        return _host(value).lower()
    except ValueError:
        raise ValueError(f"expected a DNS name for {record_type}, got {text!r}") from None


def server_address(text: str) -> tuple[str, int]:
    """``(ip, port)`` from ``host[:port]``; port 53 by default."""
    value = text.strip()
    host, port = value, "53"
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket:
            port = "x"
        elif rest:
            port = rest.removeprefix(":") if rest.startswith(":") else "x"
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"expected a DNS server address like 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53,"
            f" got {text!r}"
        )
    return str(address), int(port)
