"""The language of a request: the ``dingbridge_lang`` cookie, else the server's default
(zh_CN). The catalogs themselves are :mod:`dingbridge.i18n`."""

from __future__ import annotations

from starlette.requests import Request

from dingbridge.settings import LANGUAGES

LANG_COOKIE = "dingbridge_lang"


def request_language(request: Request, default: str) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else default
