"""Message catalogs (Babel ``.po`` files under ``<lang>/LC_MESSAGES`` beside this file),
compiled in memory, for everything users read: pages, the CLI, the doctor's report.

The ``.po`` files are the source; they are compiled when first used, so no ``.mo`` file is
committed or can go stale. zh-CN is the default language, English the other. This package
imports no web framework: the web layer picks a request's language (``web/i18n.py``).

Python code writes a user-facing text as :class:`Message` (``Message("Saved %(n)s rows.", n=3)``):
an English ``str`` (so logs, the JSON API and types see plain English) that remembers its
catalog id and values, so a page, the CLI or the doctor's report shows it in the reader's
language with :func:`translate`. Babel extracts ``Message(...)`` and ``N_(...)`` calls.

Extract the messages with ``pybabel extract -F dingbridge/i18n/babel.cfg -k Message -k N_
-o /tmp/messages.pot dingbridge``.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Protocol

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


# Babel's keywords for Python: the functions whose first argument is a catalog message.
PYTHON_KEYWORDS: dict[str, Any] = {"Message": None, "N_": None, "gettext": None, "_": None}


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated where it is shown."""
    return message


class Localized(Protocol):
    def in_language(self, language: str) -> str: ...


class Message(str):
    """A user-facing text: English as a ``str``, translated on demand.

    ``msgid`` is the catalog id (English with ``%(name)s`` placeholders), ``values`` fill
    them; a value may itself be a :class:`Message` (translated in the same language)."""

    msgid: str
    values: Mapping[str, object]

    def __new__(cls, msgid: str, /, **values: object) -> Message:
        english = _fill(msgid, values, "en")
        self = super().__new__(cls, english)
        self.msgid = msgid
        self.values = values
        return self

    def in_language(self, language: str) -> str:
        return _fill(translations(language).gettext(self.msgid), self.values, language)

    def as_dict(self) -> dict[str, str]:
        return {"zh_CN": self.in_language("zh_CN"), "en": self.in_language("en")}

    @property
    def zh(self) -> str:
        """The Chinese text (``in_language("zh_CN")``)."""
        return self.in_language("zh_CN")

    @property
    def en(self) -> str:
        """The English text (``in_language("en")``)."""
        return self.in_language("en")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.msgid, dict(self.values)))


def _rebuild(msgid: str, values: dict[str, object]) -> Message:
    return Message(msgid, **values)


def _fill(text: str, values: Mapping[str, object], language: str) -> str:
    if not values:
        return text
    shown = {
        name: value.in_language(language) if isinstance(value, Message) else value
        for name, value in values.items()
    }
    return text % shown


def translate(message: object, language: str) -> str:
    """``message`` in ``language``: a :class:`Message` or anything with ``in_language``
    translates itself; a plain string is looked up as a catalog id (unknown ones stay)."""
    if message is None:
        return ""
    in_language = getattr(message, "in_language", None)
    if callable(in_language):
        return str(in_language(language))
    return translations(language).gettext(str(message))
