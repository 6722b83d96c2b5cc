"""Where DingTalk calls go: the api host, the oapi host and the browser-facing login hosts.

- Direct (default): ``https://api.dingtalk.com``, ``https://oapi.dingtalk.com``,
  browser pages on ``https://login.dingtalk.com`` and ``https://oapi.dingtalk.com``.
- Forward address (钉钉API转发地址), :meth:`Endpoints.from_forward_address`:
  ``http://host:888/api-dingtalk-com/`` or ``http://host:888/oapi-dingtalk-com/`` (the other
  host goes to the sibling prefix), or the forwarder root ``http://host:888/`` (both prefixes
  under it). Browser pages still go to DingTalk directly: browsers do not use the forwarder.
- Single base, :meth:`Endpoints.single_base`: both hosts and the login pages at one URL
  (the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from dingbridge.i18n import Message

__all__ = [
    "API_PREFIX",
    "FORWARD_TOKEN_HEADER",
    "OAPI_PREFIX",
    "Endpoints",
    "ForwardAddressError",
]

API_PREFIX = "api-dingtalk-com"
FORWARD_TOKEN_HEADER = "X-Dingbridge-Token"
OAPI_PREFIX = "oapi-dingtalk-com"


class ForwardAddressError(ValueError):
    """The forward address is not a form we understand; the message says what to write."""


def _clean_base(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True)
class Endpoints:
    """Base URLs (no trailing slash). ``login`` serves /oauth2/auth; ``oapi_browser`` serves
    the V1 /connect/qrconnect page."""

    api: str = "https://api.dingtalk.com"
    oapi: str = "https://oapi.dingtalk.com"
    login: str = "https://login.dingtalk.com"
    oapi_browser: str = "https://oapi.dingtalk.com"
    #: Headers sent on every server call (not browser pages): the caller token of a
    #: token-protected forwarder (``X-Dingbridge-Token``). Never logged.
    forward_headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "forward_headers", tuple(self.forward_headers))
        for name in ("api", "oapi", "login", "oapi_browser"):
            value = getattr(self, name)
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ForwardAddressError(f"{name} base URL must be an http(s) URL, got {value!r}")
            object.__setattr__(self, name, _clean_base(value))

    @classmethod
    def single_base(cls, base: str) -> Endpoints:
        """Every host at one URL (the simulator serves oapi, api and login paths together)."""
        return cls(api=base, oapi=base, login=base, oapi_browser=base)

    @classmethod
    def from_forward_address(cls, address: str | None) -> Endpoints:
        """Parse the 钉钉API转发地址 setting; blank means call DingTalk directly."""
        if address is None or not address.strip():
            return cls()
        address = address.strip()
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ForwardAddressError(
                Message(
                    "forward address %(address)s must start with http:// or https:// and name a "
                    "host, e.g. %(example)s",
                    address=repr(address),
                    example="http://203.0.113.5:888/" + API_PREFIX + "/",
                )
            )
        if parts.query or parts.fragment:
            raise ForwardAddressError(
                Message(
                    "forward address %(address)s must not contain a query string or #fragment",
                    address=repr(address),
                )
            )
        segments = [s for s in parts.path.split("/") if s]
        origin = f"{parts.scheme}://{parts.netloc}"
        if not segments:
            return cls(api=f"{origin}/{API_PREFIX}", oapi=f"{origin}/{OAPI_PREFIX}")
        last = segments[-1]
        if last not in (API_PREFIX, OAPI_PREFIX):
            raise ForwardAddressError(
                Message(
                    "forward address path %(path)s does not end in /%(api)s/ or /%(oapi)s/. "
                    "Write the api prefix (e.g. %(origin)s/%(api)s/, oapi calls then go to the "
                    "sibling /%(oapi)s/) or the forwarder root (%(origin)s/).",
                    path=repr(parts.path),
                    api=API_PREFIX,
                    oapi=OAPI_PREFIX,
                    origin=origin,
                )
            )
        parent = "/".join([origin, *segments[:-1]])
        return cls(api=f"{parent}/{API_PREFIX}", oapi=f"{parent}/{OAPI_PREFIX}")

    @classmethod
    def for_app(
        cls,
        *,
        forward_url: str | None,
        api: str,
        oapi: str,
        login: str,
        forward_token: str | None = None,
    ) -> Endpoints:
        """A space's endpoints: server calls through its forward address when one is set (with
        the forwarder's caller token, if any), else to the configured ``api``/``oapi`` hosts.
        Browser pages always go to ``login``/``oapi``: browsers do not use the forwarder."""
        if forward_url and forward_url.strip():
            forwarded = cls.from_forward_address(forward_url)
            headers = ((FORWARD_TOKEN_HEADER, forward_token),) if forward_token else ()
            return cls(
                api=forwarded.api,
                oapi=forwarded.oapi,
                login=login,
                oapi_browser=oapi,
                forward_headers=headers,
            )
        return cls(api=api, oapi=oapi, login=login, oapi_browser=oapi)

    def api_url(self, path: str) -> str:
        return self.api + path

    def oapi_url(self, path: str) -> str:
        return self.oapi + path

    def login_url(self, path: str) -> str:
        return self.login + path

    def oapi_browser_url(self, path: str) -> str:
        return self.oapi_browser + path
