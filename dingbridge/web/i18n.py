"""Message catalogs (Babel ``.po`` files under ``i18n/<lang>/LC_MESSAGES``), compiled in memory.

The ``.po`` files are the source; they are compiled when the app starts, so no ``.mo`` file is
committed or can go stale. The language of a request: the ``dingbridge_lang`` cookie, else the
server's default (zh_CN).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from dingbridge.settings import LANGUAGES

CATALOG_DIR = Path(__file__).parent / "i18n"
DOMAIN = "messages"
LANG_COOKIE = "dingbridge_lang"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Compiled translations for ``language`` (``NullTranslations`` when it has no catalog)."""
    path = CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def request_language(request: Request, default: str) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else default


def html_lang(language: str) -> str:
    return language.replace("_", "-")


# How Babel finds the messages of the templates (``extract_from_dir(dir, **options)``).
TEMPLATE_MESSAGES_OPTIONS: dict[str, Any] = {
    "method_map": [("**.html", "jinja2.ext:babel_extract")],
    "options_map": {"**.html": {"extensions": "jinja2.ext.i18n"}},
}
