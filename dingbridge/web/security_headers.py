"""The security headers of every answer the server gives (console, space pages, API, errors).

``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
same-origin`` and a strict ``Content-Security-Policy`` are added to each response that does not
set its own. Pages also send ``Cache-Control: no-store`` (set where they are rendered: static
files stay cacheable). The forwarder's routes pass through untouched (they answer for DingTalk,
not for us).

The policy: everything from the server itself (``default-src 'self'``); scripts and styles only
from files it serves, never inline (no template has an inline script, style or event handler,
so no nonce is needed; ``tests/security/test_csp.py`` holds every template to that); on a
space's pages (``/{space}/…``) also DingTalk's JSAPI script and its calls, from the origin of
``settings.jsapi_url``, and app icons from any http(s) address; no plugins
(``object-src 'none'``), no ``<base>``, no framing by anyone (``frame-ancestors 'none'``: the
DingTalk client opens pages top-level, and the console must never be framed); forms post only
to the server (``form-action 'self'``).

A browser also applies ``form-action`` to the redirects that follow a form post. A space page
whose form leads on to an app (the binding form ends at the OpenID authorization endpoint or
the forward-auth gate, which redirect to the app; the end-session confirmation redirects to the
app's registered sign-out address) names those apps' origins with :func:`allow_form_targets`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
CSP = b"content-security-policy"
NAMES = frozenset(name for name, _ in HEADERS) | {CSP}
FORM_TARGETS = "dingbridge_form_targets"
"""The key in the request's ``scope["state"]`` of the extra ``form-action`` origins."""

_SPACE_PATH = re.compile(r"^/[0-9]+(/|$)")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or ``None`` (nothing else may reach a
    policy: a ``;`` or a space in a host would add a directive of its own)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host):
        return None
    return f"{parts.scheme.lower()}://{host.lower()}"


def allow_form_targets(request: Request, urls: Iterable[str]) -> None:
    """Let this page's forms lead (through redirects) to the origins of ``urls``."""
    targets: set[str] = request.scope.setdefault("state", {}).setdefault(FORM_TARGETS, set())
    targets.update(origin for url in urls if (origin := origin_of(url)) is not None)


def content_security_policy(
    path: str, jsapi_origin: str | None, form_targets: Iterable[str] = ()
) -> str:
    """The policy of the page at ``path``."""
    space_page = bool(_SPACE_PATH.match(path))
    jsapi = [jsapi_origin] if space_page and jsapi_origin else []
    scripts = ["'self'", *jsapi]
    images = ["'self'", "data:"] + (["https:", "http:"] if space_page else [])
    forms = ["'self'", *sorted(set(form_targets))]
    directives = (
        ("default-src", ["'self'"]),
        ("script-src", scripts),
        ("style-src", ["'self'"]),
        ("img-src", images),
        ("connect-src", ["'self'", *jsapi]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("frame-ancestors", ["'none'"]),
        ("form-action", forms),
    )
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, jsapi_url: str = "") -> None:
        self.app = app
        self.jsapi_origin = origin_of(jsapi_url) if jsapi_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers} & NAMES
                headers.extend(item for item in HEADERS if item[0] not in present)
                if CSP not in present:
                    targets = scope.get("state", {}).get(FORM_TARGETS, ())
                    policy = content_security_policy(scope["path"], self.jsapi_origin, targets)
                    headers.append((CSP, policy.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
