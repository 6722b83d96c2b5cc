"""Every message on the pages has a Chinese translation; the catalogs compile."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir

from dingbridge.i18n import TEMPLATE_MESSAGES_OPTIONS, translations
from dingbridge.web.templating import TEMPLATE_DIR
from tests.web.conftest import AsgiClient, csrf_of


def test_every_template_message_is_translated_to_chinese() -> None:
    zh = translations("zh_CN")
    messages = {
        message
        for _f, _l, message, _c, _x in extract_from_dir(
            str(TEMPLATE_DIR), **TEMPLATE_MESSAGES_OPTIONS
        )
    }
    assert len(messages) > 50
    untranslated = sorted(
        m
        for m in messages
        if isinstance(m, str)
        and zh.gettext(m) == m
        and m.isascii()
        and m not in ("ID", "AppKey (Client ID)", "AppSecret (Client Secret)")
    )
    assert untranslated == [], (
        "add a Chinese msgstr for these to dingbridge/i18n/zh_CN/LC_MESSAGES/messages.po "
        "(see docs/server.md, Messages)"
    )


async def test_validation_messages_are_shown_in_chinese(admin: AsgiClient) -> None:
    token = await csrf_of(admin)
    result = await admin.post("/admin/spaces", form={"csrf_token": token, "name": ""})
    assert "名称必填。" in result.text
    await admin.get("/lang/en")
    result = await admin.post("/admin/spaces", form={"csrf_token": token, "name": ""})
    assert "The name is required." in result.text
