"""Request routing and the open-proxy guard, on raw request-target bytes.

The vendor guide's nginx (port 888) routes are reproduced exactly::

    /oapi-dingtalk-com/X  -> oapi upstream /X     (prefix stripped)
    /api-dingtalk-com/X   -> api upstream  /X     (prefix stripped)
    /X                    -> oapi upstream /X

The query string is passed on byte for byte. ``/healthz`` and ``/metrics`` are reserved and never
forwarded. Anything that could turn the forwarder into an open proxy or reach an unintended path is
refused with a :class:`Refusal` naming the trick: CONNECT, ``*``, absolute-form targets naming a
host other than this forwarder, backslashes, ``..``/``.`` segments (raw or ``%2e``-encoded), encoded
slashes and backslashes (``%2f``, ``%5c``), NUL bytes and double-encoded variants of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from dingbridge.forwarder.settings import ForwarderSettings, Upstream

OAPI_PREFIX = b"/oapi-dingtalk-com/"
API_PREFIX = b"/api-dingtalk-com/"
RESERVED_PATHS = {b"/healthz": "healthz", b"/metrics": "metrics"}
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# Single bytes as ints: ``35 in target`` is a plain scan, while ``b"#" in target`` first tries
# the argument as an int and raises (and clears) a TypeError inside CPython, ~10x the cost.
_HASH, _BACKSLASH, _PERCENT, _DOT = b"#\\%."
_BAD_ENCODINGS = (b"%2f", b"%5c", b"%00", b"%252e", b"%252f", b"%255c", b"%25252")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused before anything is forwarded."""

    status: int
    error: str
    detail: str


class Route(NamedTuple):
    """Where a request goes: route label, upstream, and the request target to send there.

    A named tuple: one is made per request, and a tuple is the cheapest object to build."""

    name: str  # "oapi", "api" or "default" (the "/" location)
    upstream: Upstream
    target: bytes


@dataclass(frozen=True, slots=True)
class Reserved:
    """A reserved local path (``healthz`` or ``metrics``)."""

    name: str


class RouteTable:
    """Routes for one settings object; :meth:`resolve` is the hot path (bytes in, bytes out)."""

    def __init__(self, settings: ForwarderSettings) -> None:
        ups = settings.upstreams()
        self.oapi = ups["oapi"]
        self.api = ups["api"]
        self._oapi_base = self.oapi.base_path.encode("ascii")
        self._api_base = self.api.base_path.encode("ascii")
        names = {n.lower() for n in settings.server_names} | _LOOPBACK_NAMES
        host = settings.listen_host.lower()
        if host not in ("0.0.0.0", "::", ""):
            names.add(host)
        self._own_names = frozenset(names)

    def resolve(self, method: bytes, target: bytes) -> Route | Reserved | Refusal:
        if method == b"CONNECT":
            return Refusal(
                405, "method_not_allowed", "CONNECT is refused: this is not an open proxy"
            )
        if not target.startswith(b"/"):
            if target == b"*":
                return Refusal(400, "bad_target", "the '*' request target is not supported")
            refusal, target = self._absolute_to_origin(target)
            if refusal is not None:
                return refusal
        path, sep, query = target.partition(b"?")
        if _HASH in target:
            return Refusal(400, "bad_target", "a request target must not contain '#'")
        if _BACKSLASH in path:
            return Refusal(400, "bad_path", "backslashes are not allowed in the path")
        if _PERCENT in path or _DOT in path:
            refusal = _check_path_tricks(path)
            if refusal is not None:
                return refusal
        reserved = RESERVED_PATHS.get(path)
        if reserved is not None:
            return Reserved(reserved)
        if path.startswith(OAPI_PREFIX):
            name, upstream, base, path = "oapi", self.oapi, self._oapi_base, path[18:]
        elif path.startswith(API_PREFIX):
            name, upstream, base, path = "api", self.api, self._api_base, path[17:]
        else:
            name, upstream, base = "default", self.oapi, self._oapi_base
        return Route(name, upstream, base + path + sep + query)

    def _absolute_to_origin(self, target: bytes) -> tuple[Refusal | None, bytes]:
        scheme, sep, rest = target.partition(b"://")
        if not sep or scheme.lower() not in (b"http", b"https"):
            return Refusal(400, "bad_target", "the request target must be a path"), target
        authority, slash, path = rest.partition(b"/")
        if b"@" in authority:
            return Refusal(400, "bad_target", "user info in the request target is refused"), target
        host = authority.decode("latin-1").lower()
        if host.startswith("["):
            host = host[: host.find("]") + 1] if "]" in host else host
        else:
            host = host.partition(":")[0]
        if host not in self._own_names:
            return (
                Refusal(
                    403,
                    "foreign_host",
                    f"absolute URL names host {host!r}: this forwarder only forwards to its "
                    "configured DingTalk upstreams; send a path such as /api-dingtalk-com/...",
                ),
                target,
            )
        return None, b"/" + path if slash else b"/"


def _check_path_tricks(path: bytes) -> Refusal | None:
    lowered = path.lower()
    for bad in _BAD_ENCODINGS:
        if bad in lowered:
            return Refusal(
                400,
                "bad_path",
                "encoded slashes, backslashes, NUL bytes and double encoding are not allowed "
                "in the path",
            )
    decoded_dots = lowered.replace(b"%2e", b".")
    for segment in decoded_dots.split(b"/"):
        if segment in (b".", b".."):
            return Refusal(400, "bad_path", "'.' and '..' path segments are not allowed")
    return None
