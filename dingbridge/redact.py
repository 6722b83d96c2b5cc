"""Secret redaction for everything dingbridge logs: query strings, headers, JSON and free text.

A parameter is secret when its name is one DingTalk uses for credentials (``appsecret``,
``access_token``, ``code``, ``authCode``, ``tmp_auth_code``, ``x-acs-dingtalk-access-token``)
or when it *looks* like one: a name containing ``secret``, ``token``, ``password``,
``signature``, ``ticket``, ``cookie``, ``credential``, ``session`` or ``authorization``, or
having ``code``, ``sign``, ``pwd``, ``sid`` or ``key`` ... as one of its words (``authCode``,
``tmp_auth_code``, ``sms_code``). A few names that merely look secret are public and kept:
``errcode``, ``sub_code``, ``appkey``, ``corpid``.

Values are replaced by :data:`REDACTED`; names, order and structure are kept, so a redacted line
still tells what was sent.

>>> redact_query("appkey=ding1&appsecret=s3cr3t")
'appkey=ding1&appsecret=***'
>>> redact_target("/gettoken?corpid=ding1&corpsecret=x")
'/gettoken?corpid=ding1&corpsecret=***'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "REDACTED",
    "is_secret_name",
    "redact_headers",
    "redact_json",
    "redact_query",
    "redact_target",
    "redact_text",
]

REDACTED = "***"

# Exact names (compared lower-cased, with "-" folded to "_").
_SECRET_NAMES = frozenset(
    {
        "appsecret",
        "access_token",
        "code",
        "authcode",
        "tmp_auth_code",
        "x_acs_dingtalk_access_token",
        "corpsecret",
        "suitesecret",
        "ssosecret",
        "client_secret",
        "refresh_token",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "x_dingbridge_token",
    }
)
# Substrings that make any name secret.
_SECRET_PARTS = (
    "secret",
    "token",
    "password",
    "passwd",
    "signature",
    "ticket",
    "cookie",
    "credential",
    "session",
    "authorization",
    "private",
)
# Whole words (after splitting snake_case, kebab-case and camelCase) that make a name secret.
_SECRET_WORDS = frozenset({"code", "sign", "pwd", "sid", "otp", "pin", "auth", "apikey"})
# Names that look secret but are public identifiers or error fields.
_PUBLIC_NAMES = frozenset(
    {
        "errcode",
        "sub_code",
        "subcode",
        "error_code",
        "status_code",
        "statuscode",
        "appkey",
        "app_key",
        "corpid",
        "corp_id",
        "client_id",
        "clientid",
        "country_code",
        "state_code",
        "dept_code",
        "response_type",
        "grant_type",
        "token_type",
        "expires_in",
        "expirein",
        "expire_in",
        "ticket_type",
    }
)
_WORD_SPLIT = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Tell whether a parameter, header or JSON key named ``name`` carries a secret."""
    folded = name.strip().lower().replace("-", "_")
    if not folded:
        return False
    if folded in _SECRET_NAMES:
        return True
    if folded in _PUBLIC_NAMES:
        return False
    if any(part in folded for part in _SECRET_PARTS):
        return True
    words = {word.lower() for word in _WORD_SPLIT.findall(name)}
    return not words.isdisjoint(_SECRET_WORDS)


def redact_query(query: str | bytes) -> str:
    """Redact the values of secret parameters in a URL query string (without the ``?``).

    Names and everything else are kept byte for byte (as text), including their encoding.
    """
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    if not text:
        return text
    out: list[str] = []
    for pair in text.split("&"):
        name, sep, _value = pair.partition("=")
        if sep and is_secret_name(unquote_plus(name)):
            out.append(f"{name}={REDACTED}")
        else:
            out.append(pair)
    return "&".join(out)


def redact_target(target: str | bytes) -> str:
    """Redact a request target (``/path?query``, or an absolute URL)."""
    text = target.decode("latin-1") if isinstance(target, bytes) else target
    path, sep, query = text.partition("?")
    if not sep:
        return path
    fragment = ""
    if "#" in query:
        query, _, frag = query.partition("#")
        fragment = "#" + frag
    return f"{path}?{redact_query(query)}{fragment}"


HeaderItems = Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]] | Mapping[str, str]


def redact_headers(headers: HeaderItems) -> list[tuple[str, str]]:
    """Return header (name, value) pairs as text with secret values redacted."""
    items: Iterable[tuple[Any, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, str]] = []
    for raw_name, raw_value in items:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else str(raw_name)
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else str(raw_value)
        out.append((name, REDACTED if is_secret_name(name) else value))
    return out


def redact_json(value: Any) -> Any:
    """Return a copy of a JSON-like value with the values of secret keys redacted (deeply)."""
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and is_secret_name(key) and _is_scalar(item)
                else redact_json(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_json(item) for item in value]
    return value


def _is_scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, Mapping | list | tuple)


# name=value (query or form style), "name": "value" / 'name': 'value' (JSON or repr style),
# and "Name: value" header lines.
_KV_PATTERN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>=)(?P<value>[^&\s\"',;)]*)")
_QUOTED_PATTERN = re.compile(
    r"(?P<q>[\"'])(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P=q)(?P<sep>\s*:\s*)"
    r"(?P<vq>[\"']?)(?P<value>(?:(?!(?P=vq))[^\\]|\\.)*?)(?P=vq)(?=\s*[,}\]\n]|$)"
)
_HEADER_LINE_PATTERN = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9\-]*)(?P<sep>:[ \t]*)(?P<value>.+)$", re.MULTILINE
)
_INLINE_COLON_PATTERN = re.compile(
    r"(?P<name>[A-Za-z][A-Za-z0-9_\-]*)(?P<sep>:[ \t]*)"
    r"(?P<value>(?:(?:Bearer|Basic|Digest|Token)[ \t]+)?[^\s,;&\"'{}\[\]]+)"
)


def redact_text(text: str) -> str:
    """Redact secrets in free text: ``name=value`` pairs, quoted ``"name": "value"`` pairs and
    ``Name: value`` header lines whose name is secret."""

    def kv(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]) or not match["value"]:
            return match[0]
        return f"{match['name']}{match['sep']}{REDACTED}"

    def quoted(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]) or not match["value"]:
            return match[0]
        q, vq = match["q"], match["vq"]
        return f"{q}{match['name']}{q}{match['sep']}{vq}{REDACTED}{vq}"

    text = _QUOTED_PATTERN.sub(quoted, text)
    text = _HEADER_LINE_PATTERN.sub(kv, text)
    text = _INLINE_COLON_PATTERN.sub(kv, text)
    return _KV_PATTERN.sub(kv, text)
