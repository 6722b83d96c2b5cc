"""Where a forward-auth sign-in sends the browser back: the original URL of that app only.

An app's URL (``SpaceApp.url``, e.g. ``http://apps.example.com:8080/wiki/``) gives its origin
(scheme, host, port) and its path prefix. A return URL is accepted when it is on that origin
and under that prefix, and carries nothing a browser could read as another place: no user
info, no backslash, no dot segment, no encoded slash, backslash or dot, no space or control
character. Anything else — another app, another host, ``//evil``, ``javascript:`` — gives
the app's own URL instead.

The return URL travels to dingbridge's sign-in page as URL-safe base64 (``rd=``), so that it
passes the sign-in's own ``next=`` check unchanged (that check refuses encoded slashes).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ENCODED_TRICKS = ("%2f", "%5c", "%2e", "%00")


class AppUrlError(ValueError):
    """An app URL the gate cannot protect (not an absolute http(s) URL)."""


@dataclass(frozen=True)
class AppUrl:
    """A forward-auth app's URL, taken apart."""

    scheme: str
    host: str
    port: int
    path: str  # the path prefix, always ending in "/"

    @property
    def origin(self) -> str:
        default = _DEFAULT_PORTS[self.scheme] == self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    @property
    def url(self) -> str:
        return self.origin + self.path

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @classmethod
    def parse(cls, url: str) -> AppUrl:
        parts = _split(url)
        if parts is None or parts.username is not None or parts.password is not None:
            raise AppUrlError(f"not an absolute http:// or https:// URL: {url!r}")
        path = parts.path or "/"
        if not _clean_path(path):
            raise AppUrlError(f"the app URL's path has dot segments or encoded tricks: {url!r}")
        return cls(
            parts.scheme.lower(),
            (parts.hostname or "").lower(),
            _port(parts),
            path if path.endswith("/") else path + "/",
        )

    def contains(self, path: str) -> bool:
        return path.startswith(self.path) or path == self.path.rstrip("/")


def _split(url: str) -> SplitResult | None:
    if not url or any(not c.isprintable() or c.isspace() or c == "\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts


def _port(parts: SplitResult) -> int:
    return parts.port if parts.port is not None else _DEFAULT_PORTS[parts.scheme.lower()]


def _clean_path(path: str) -> bool:
    lowered = path.lower()
    if any(trick in lowered for trick in _ENCODED_TRICKS):
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


def safe_return_url(app: AppUrl, candidate: str | None) -> str:
    """``candidate`` (an absolute URL or a path) when it is under the app's URL; the app's URL
    otherwise."""
    if not candidate:
        return app.url
    if candidate.startswith("/") and not candidate.startswith("//"):
        candidate = app.origin + candidate
    parts = _split(candidate)
    if (
        parts is None
        or parts.username is not None
        or parts.password is not None
        or "@" in parts.netloc
        or parts.scheme.lower() != app.scheme
        or (parts.hostname or "").lower() != app.host
        or _port(parts) != app.port
        or not _clean_path(parts.path)
        or not app.contains(parts.path)
    ):
        return app.url
    query = f"?{parts.query}" if parts.query else ""
    return app.origin + parts.path + query


def encode_rd(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def decode_rd(value: str | None) -> str:
    """The URL in an ``rd=`` value ("" when it is not one of ours)."""
    if not value or len(value) > 8192:
        return ""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
