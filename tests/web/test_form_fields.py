"""The console's form fields carry their attributes as HTML attributes, not as escaped text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dingbridge.web.templating import html_attrs
from tests.web.conftest import AsgiClient, Server, csrf_of

LINK = re.compile(r"(/admin/setup\?token=[A-Za-z0-9_\-]+)")


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("id"):
            self.inputs[str(values["id"])] = values


def inputs_of(html: str) -> dict[str, dict[str, str | None]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.inputs


async def test_login_fields_tell_the_browser_what_they_hold(server: Server) -> None:
    fields = inputs_of((await server.client.get("/admin/login")).text)
    assert fields["f-username"]["autocomplete"] == "username"
    assert "required" in fields["f-username"] and "autofocus" in fields["f-username"]
    assert fields["f-password"]["autocomplete"] == "current-password"


async def test_setup_fields_ask_for_a_new_password(server: Server) -> None:
    match = LINK.search("\n".join(server.announced))
    assert match
    fields = inputs_of((await server.client.get(match.group(1))).text)
    assert fields["f-password"]["autocomplete"] == "new-password"
    assert fields["f-password2"]["autocomplete"] == "new-password"


async def test_space_and_dingtalk_fields_keep_their_limits(admin: AsgiClient) -> None:
    fields = inputs_of((await admin.get("/admin/spaces")).text)
    assert fields["f-name"]["maxlength"] == "200"
    token = await csrf_of(admin)
    await admin.post("/admin/spaces", form={"csrf_token": token, "name": "销售部"})
    fields = inputs_of((await admin.get("/admin/spaces/10001/dingtalk")).text)
    assert fields["f-agent_id"]["inputmode"] == "numeric"
    assert fields["f-corp_id"]["spellcheck"] == "false"
    html = (await admin.get("/admin/spaces/10001/members")).text
    assert "&#34;" not in html and "&quot;" not in html.split("<main", 1)[1]


def test_attribute_values_are_escaped_once_and_strings_refused() -> None:
    assert html_attrs({"maxlength": 200, "required": True, "hidden": False}) == (
        ' maxlength="200" required'
    )
    assert html_attrs({"title": 'a "b" <c>'}) == ' title="a &#34;b&#34; &lt;c&gt;"'
    with pytest.raises(TypeError):
        html_attrs('autocomplete="username"')  # type: ignore[arg-type]
