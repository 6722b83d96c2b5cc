"""The space's apps page in the console: add (every kind), the access chooser, edit, delete and
rotate after a confirmation page; a client secret shown once, on a no-store page, never again."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from dingbridge.spaces.departments import DirectoryDepartment, list_departments, record_directory
from dingbridge.spaces.store import create_space
from tests.web.conftest import AsgiClient, Result, Server, csrf_of

APPS = "/admin/spaces/10001/apps"
GRAFANA = [
    ("name", "Grafana"),
    ("url", "https://grafana.example.com/"),
    ("kind", "oidc"),
    ("redirect_uris", "https://grafana.example.com/login/generic_oauth\n\nhttp://10.0.0.5/cb"),
    ("client_type", "confidential"),
    ("access", "all"),
]


async def post_pairs(client: AsgiClient, url: str, pairs: list[tuple[str, str]]) -> Result:
    """A form post with repeated fields (checkboxes), as a browser sends it."""
    token = await csrf_of(client, APPS)
    return await client.post(
        url,
        body=urlencode([("csrf_token", token), *pairs]).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def space_with_departments(server: Server) -> dict[str, int]:
    """Space 10001 with the departments a directory import would record; name → row id."""
    context = server.app.state.context
    async with context.db.transaction() as session:
        space = await create_space(session, "示例空间", actor="test")
        await record_directory(
            session,
            space.id,
            [
                DirectoryDepartment(1, "", None),
                DirectoryDepartment(2, "研发部", 1),
                DirectoryDepartment(3, "市场部", 1),
            ],
            {},
            root_name="示例科技有限公司",
        )
        return {d.name: d.id for d in await list_departments(session, space.id)}


def secret_in(page: str) -> str:
    found = re.search(r'id="v-client-secret">(dbs_[^<]+)<', page)
    assert found, page
    return found.group(1)


async def test_an_oidc_app_shows_its_secret_once(server: Server, admin: AsgiClient) -> None:
    await space_with_departments(server)
    empty = await admin.get(APPS)
    assert empty.status == 200 and "还没有应用" in empty.text
    form = await admin.get(f"{APPS}/new")
    assert 'name="redirect_uris"' in form.text and "<script>" not in form.text
    created = await post_pairs(admin, APPS, GRAFANA)
    assert created.status == 200, created.text
    assert created.header("cache-control") == "no-store"
    secret = secret_in(created.text)
    assert 'data-copy="v-client-secret"' in created.text  # the copy button (console.js)
    assert "http://testserver/10001" in created.text  # the issuer
    assert "http://testserver/10001/.well-known/openid-configuration" in created.text
    assert "只显示这一次" in created.text

    listing = await admin.get(APPS)
    assert "Grafana" in listing.text and "dbc_" in listing.text and secret not in listing.text
    edit_url = re.search(r'href="(/admin/spaces/10001/apps/\d+)"', listing.text)
    assert edit_url
    edit = await admin.get(edit_url.group(1))
    assert "http://10.0.0.5/cb" in edit.text and secret not in edit.text
    assert "/.well-known/openid-configuration" in edit.text
    audit = await admin.get("/admin/audit")
    assert "space_app.add" in audit.text and secret not in audit.text


async def test_bad_fields_are_marked_and_nothing_is_added(
    server: Server, admin: AsgiClient
) -> None:
    await space_with_departments(server)
    refused = await post_pairs(
        admin,
        APPS,
        [
            ("name", ""),
            ("url", "javascript:alert(1)"),
            ("kind", "oidc"),
            ("redirect_uris", "https://*.example.com/cb"),
            ("access", "departments"),
        ],
    )
    assert refused.status == 400
    for name in ("name", "url", "redirect_uris", "departments"):
        assert f'id="error-{name}"' in refused.text, name
    assert "https://*.example.com/cb" in refused.text  # the input is kept
    assert "请选择至少一个部门" in refused.text
    assert "还没有应用" in (await admin.get(APPS)).text


async def test_the_access_chooser_lists_departments_and_members(
    server: Server, admin: AsgiClient
) -> None:
    departments = await space_with_departments(server)
    form = await admin.get(f"{APPS}/new")
    for name in ("示例科技有限公司", "研发部", "市场部"):
        assert name in form.text
    created = await post_pairs(
        admin,
        APPS,
        [
            ("name", "研发 Wiki"),
            ("url", "https://wiki.example.com/"),
            ("kind", "link"),
            # left in the hidden OIDC fields after switching to a link: dropped, not refused
            ("redirect_uris", "https://wiki.example.com/cb"),
            ("access", "departments"),
            ("departments", str(departments["研发部"])),
            ("departments", str(departments["市场部"])),
        ],
    )
    assert created.status == 303 and created.header("location") == f"{APPS}?done=app_added"
    listing = (await admin.get(APPS)).text
    assert "研发 Wiki" in listing and "指定部门 (2)" in listing
    app_url = re.search(r'href="(/admin/spaces/10001/apps/\d+)"', listing)
    assert app_url
    edit = (await admin.get(app_url.group(1))).text
    checked = re.findall(r'name="departments" value="(\d+)" checked', edit)
    assert sorted(checked) == sorted([str(departments["研发部"]), str(departments["市场部"])])
    assert "https://wiki.example.com/cb" not in edit

    saved = await post_pairs(
        admin,
        app_url.group(1),
        [("name", "研发 Wiki"), ("url", "/wiki"), ("kind", "link"), ("access", "all")],
    )
    assert saved.status == 303
    assert "全部成员" in (await admin.get(APPS)).text


async def test_delete_and_rotate_ask_first(server: Server, admin: AsgiClient) -> None:
    await space_with_departments(server)
    first = secret_in((await post_pairs(admin, APPS, GRAFANA)).text)
    app_url = re.search(r'href="(/admin/spaces/10001/apps/\d+)"', (await admin.get(APPS)).text)
    assert app_url
    confirm = await admin.get(f"{app_url.group(1)}/rotate-secret")
    assert confirm.status == 200 and 'id="confirm-button"' in confirm.text
    rotated = await post_pairs(admin, f"{app_url.group(1)}/rotate-secret", [])
    assert rotated.status == 200 and rotated.header("cache-control") == "no-store"
    assert secret_in(rotated.text) != first

    confirm = await admin.get(f"{app_url.group(1)}/delete")
    assert confirm.status == 200 and "删除这个应用" in confirm.text
    assert "Grafana" in (await admin.get(APPS)).text  # asking deleted nothing
    deleted = await post_pairs(admin, f"{app_url.group(1)}/delete", [])
    assert deleted.status == 303
    assert "Grafana" not in (await admin.get(APPS)).text
    assert (await admin.get(app_url.group(1))).status == 404


async def test_the_page_speaks_english_too(server: Server, admin: AsgiClient) -> None:
    await space_with_departments(server)
    await admin.get("/lang/en")
    form = await admin.get(f"{APPS}/new")
    assert "Who may use it" in form.text and "Redirect URIs, one a line" in form.text
    refused = await post_pairs(admin, APPS, [("name", "X"), ("url", "/x"), ("kind", "oidc")])
    assert "An OIDC app needs at least one redirect URI." in refused.text
