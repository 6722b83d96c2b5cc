"""Every message the Python code shows users (``Message(...)``, ``N_(...)``), as Babel
extracts it, has a Chinese translation; a Message renders in either language."""

from __future__ import annotations

import pickle
from pathlib import Path

from babel.messages.extract import extract_from_dir

import dingbridge
from dingbridge.i18n import PYTHON_KEYWORDS, Message, translate, translations

PACKAGE = Path(dingbridge.__file__).parent
# Ids that read the same in Chinese (names of DingTalk's own fields).
SAME_IN_CHINESE = {"AppKey", "AppSecret", "AgentId", "CorpId"}


def python_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=PYTHON_KEYWORDS,
    ):
        if isinstance(message, str):
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_every_python_message_has_a_chinese_translation() -> None:
    messages = python_messages()
    assert len(messages) > 20
    zh = translations("zh_CN")
    untranslated = sorted(
        f"{where}: {message}"
        for message, where in messages.items()
        if zh.gettext(message) == message and message not in SAME_IN_CHINESE
    )
    assert untranslated == [], (
        "add a Chinese msgstr for these to dingbridge/i18n/zh_CN/LC_MESSAGES/messages.po"
    )


def test_a_message_is_english_text_and_translates_with_its_values() -> None:
    message = Message("The first line must name the columns; missing: %(columns)s.", columns="x")
    assert message == "The first line must name the columns; missing: x."
    assert "第一行" in translate(message, "zh_CN") and "x" in translate(message, "zh_CN")
    assert translate(message, "en") == message
    assert pickle.loads(pickle.dumps(message)).in_language("zh_CN") == message.in_language("zh_CN")
