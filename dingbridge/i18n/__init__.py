"""Message catalogs (Babel ``.po`` files under ``<lang>/LC_MESSAGES`` beside this file),
compiled in memory, for everything users read: pages, the CLI, the doctor's report.

The ``.po`` files are the source; they are compiled when first used, so no ``.mo`` file is
committed or can go stale. zh-CN is the default language, English the other. This package
imports no web framework: the web layer picks a request's language (``web/i18n.py``).

Extract the messages with ``pybabel extract -F dingbridge/i18n/babel.cfg -o /tmp/messages.pot
dingbridge``.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
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


def html_lang(language: str) -> str:
    return language.replace("_", "-")


# How Babel finds the messages of the templates (``extract_from_dir(dir, **options)``).
TEMPLATE_MESSAGES_OPTIONS: dict[str, Any] = {
    "method_map": [("**.html", "jinja2.ext:babel_extract")],
    "options_map": {"**.html": {"extensions": "jinja2.ext.i18n"}},
}
