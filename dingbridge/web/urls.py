"""Addresses the server builds and the destinations it accepts.

- :func:`server_base`: the server as users reach it (``--external-url``, else the request's);
- :func:`space_address`: a space's URL, also its DingTalk home page and OAuth redirect URL;
- :func:`safe_next`: the one check of a post-sign-in destination (console and spaces alike):
  a path under the given prefix, nothing that a browser could read as another site or path.
"""

from __future__ import annotations

from starlette.requests import Request

from dingbridge.context import get_context
from dingbridge.signin.member_sessions import space_path

_TRICKS = ("//", "\\", "/.", "%2e", "%2f", "%5c")


def server_base(request: Request) -> str:
    """The server's address as users reach it: ``--external-url``, else this request's."""
    external = get_context(request).settings.external_url
    return (external or str(request.base_url)).rstrip("/")


def space_address(request: Request, space_id: int) -> str:
    return f"{server_base(request)}/{space_id}/"


def safe_next(value: str | None, *, prefix: str, default: str | None = None) -> str:
    """``value`` when it is a path under ``prefix`` with no scheme, host, backslash, dot
    segment, encoded slash or dot, space or control character; ``default`` (``prefix``)
    otherwise. Used for every ``next=`` the server follows."""
    lowered = (value or "").lower()
    if (
        value
        and value.startswith(prefix)
        and not any(bad in lowered for bad in _TRICKS)
        and all(c.isprintable() and not c.isspace() for c in value)
    ):
        return value
    return default if default is not None else prefix


def space_next(space_id: int, value: str | None) -> str:
    """A post-sign-in destination inside this space only; the space home otherwise."""
    return safe_next(value, prefix=space_path(space_id))
