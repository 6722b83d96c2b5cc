"""The identity headers the gate gives the proxy, and the cookies the app must not see.

Names follow oauth2-proxy (``X-Auth-Request-*``) so apps and proxy snippets written for it work
unchanged, plus three of dingbridge's own (``X-Dingbridge-*``).

**Encoding.** HTTP header values are bytes the proxies pass on as Latin-1 at best, so every
value is UTF-8 *percent-encoded* the way JavaScript's ``encodeURIComponent`` does it: letters,
digits and ``-_.!~*'()`` stay as they are, every other byte becomes ``%XX``. ``张伟`` is sent as
``%E5%BC%A0%E4%BC%9F``; an ASCII value without reserved characters (``user001``, most e-mail
addresses but for ``@`` → ``%40``) looks the same. Decode with ``urllib.parse.unquote`` (Python),
``decodeURIComponent`` (JavaScript), ``url.PathUnescape`` (Go), ``rawurldecode`` (PHP).
``X-Auth-Request-Groups`` is the department names, each encoded so, joined by ``,`` (a comma in
a name is ``%2C``): split on ``,`` first, then decode each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

USER = "X-Auth-Request-User"
EMAIL = "X-Auth-Request-Email"
PREFERRED_USERNAME = "X-Auth-Request-Preferred-Username"
GROUPS = "X-Auth-Request-Groups"
MEMBER = "X-Dingbridge-Member"
CORP_ID = "X-Dingbridge-Corp-Id"
USERID = "X-Dingbridge-Userid"
IDENTITY_HEADERS = (USER, EMAIL, PREFERRED_USERNAME, GROUPS, MEMBER, CORP_ID, USERID)
"""Every identity header: the proxy sets each of them (empty when unknown), so a value the
client sent under one of these names never reaches the app."""

APP_COOKIE_HEADER = "X-Dingbridge-Cookie"
"""The request's ``Cookie`` header without dingbridge's cookies: the proxy sends this to the
app instead of the browser's (see :func:`cookies_for_app`)."""
SIGN_IN_HEADER = "X-Dingbridge-Sign-In"
"""On a 401 or 403: the sign-in URL the proxy sends the browser to."""

_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves as is, besides letters and digits
_COOKIE_PREFIXES = ("dingbridge", "_dingbridge")


def encode_value(value: str) -> str:
    """A header-safe form of ``value`` (UTF-8 percent-encoding, as ``encodeURIComponent``)."""
    return quote(value, safe=_SAFE)


def encode_list(values: Iterable[str]) -> str:
    return ",".join(encode_value(value) for value in values)


@dataclass(frozen=True)
class Identity:
    """What the gate tells an app about a signed-in member (plain text, not yet encoded)."""

    user: str
    email: str
    name: str
    groups: tuple[str, ...]
    member_id: int
    corp_id: str
    userid: str

    def headers(self) -> dict[str, str]:
        """The identity headers, encoded (every name of :data:`IDENTITY_HEADERS`)."""
        return {
            USER: encode_value(self.user),
            EMAIL: encode_value(self.email),
            PREFERRED_USERNAME: encode_value(self.name),
            GROUPS: encode_list(self.groups),
            MEMBER: str(self.member_id),
            CORP_ID: encode_value(self.corp_id),
            USERID: encode_value(self.userid),
        }


def is_dingbridge_cookie(name: str) -> bool:
    return name.strip().lower().startswith(_COOKIE_PREFIXES)


def cookies_for_app(cookie_header: str) -> str:
    """``cookie_header`` without the cookies named ``dingbridge…`` or ``_dingbridge…`` (the
    gate's, the member session's, the sign-in's): what the app may see."""
    kept = [
        part.strip()
        for part in cookie_header.split(";")
        if part.strip() and not is_dingbridge_cookie(part.split("=", 1)[0])
    ]
    return "; ".join(kept)


def cookie_value(cookie_header: str, name: str) -> str:
    """The value of cookie ``name`` in a ``Cookie`` header ("" when absent; the first wins)."""
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def decoded(headers: Mapping[str, str]) -> dict[str, str | list[str]]:
    """The identity headers of ``headers`` decoded (what an app does; tests and docs use it)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    out: dict[str, str | list[str]] = {}
    for name in IDENTITY_HEADERS:
        value = lowered.get(name.lower(), "")
        if name == GROUPS:
            out[name] = [unquote(item) for item in value.split(",") if item]
        else:
            out[name] = unquote(value)
    return out
