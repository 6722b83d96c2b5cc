"""Spaces, members, CSV import and the audit log through the console pages."""

from __future__ import annotations

from tests.web.conftest import AsgiClient, Server, csrf_of


async def _create_space(admin: AsgiClient, name: str) -> str:
    result = await admin.post(
        "/admin/spaces", form={"csrf_token": await csrf_of(admin), "name": name}
    )
    assert result.status == 303
    location = result.header("location") or ""
    return location.split("?")[0]


async def test_create_rename_disable_space(server: Server, admin: AsgiClient) -> None:
    first = await _create_space(admin, "销售部")
    second = await _create_space(admin, "财务部")
    assert (first, second) == ("/admin/spaces/10001", "/admin/spaces/10002")
    listing = (await admin.get("/admin/spaces")).text
    assert "销售部" in listing and "财务部" in listing
    token = await csrf_of(admin, first)
    await admin.post(f"{first}/rename", form={"csrf_token": token, "name": "销售一部"})
    assert "销售一部" in (await admin.get(first)).text
    assert (await server.new_client().get("/10001/")).status == 200
    await admin.post(f"{first}/enabled", form={"csrf_token": token, "enabled": "0", "confirm": "1"})
    assert (await server.new_client().get("/10001/")).status == 404
    audit = (await admin.get("/admin/audit")).text
    assert "space.rename" in audit and "space.disable" in audit


async def test_empty_space_name_shows_error(admin: AsgiClient) -> None:
    result = await admin.post(
        "/admin/spaces", form={"csrf_token": await csrf_of(admin), "name": "  "}
    )
    assert result.status == 400
    assert 'id="error-name"' in result.text


async def test_members_add_edit_disable_delete(admin: AsgiClient) -> None:
    space = await _create_space(admin, "A")
    token = await csrf_of(admin, f"{space}/members")
    added = await admin.post(
        f"{space}/members",
        form={
            "csrf_token": token,
            "name": "张伟",
            "mobile": "138 0000 0001",
            "email": "",
            "role": "",
            "status": "active",
        },
    )
    assert added.status == 303
    page = (await admin.get(f"{space}/members")).text
    assert "张伟" in page and "13800000001" in page
    duplicate = await admin.post(
        f"{space}/members",
        form={"csrf_token": token, "name": "李娜", "mobile": "+8613800000001", "status": "active"},
    )
    assert duplicate.status == 400 and 'id="error-mobile"' in duplicate.text
    bad = await admin.post(
        f"{space}/members", form={"csrf_token": token, "name": "王芳", "mobile": "12345"}
    )
    assert bad.status == 400 and "王芳" in bad.text  # the typed values are kept
    member_url = f"{space}/members/1"
    edited = await admin.post(
        member_url,
        form={
            "csrf_token": token,
            "name": "张伟伟",
            "mobile": "13800000002",
            "email": "z@example.com",
            "role": "lead",
            "status": "active",
        },
    )
    assert edited.status == 303
    page = (await admin.get(f"{space}/members")).text
    assert "张伟伟" in page and "13800000002" in page and "lead" in page
    await admin.post(f"{member_url}/status", form={"csrf_token": token, "status": "disabled"})
    assert (
        "Enable" in (await admin.get(f"{space}/members")).text
        or "启用" in (await admin.get(f"{space}/members")).text
    )
    await admin.post(f"{member_url}/delete", form={"csrf_token": token, "confirm": "1"})
    assert "张伟伟" not in (await admin.get(f"{space}/members")).text
    assert (await admin.get(member_url)).status == 404


async def test_csv_import_with_bad_row_reports_and_imports_nothing(admin: AsgiClient) -> None:
    space = await _create_space(admin, "A")
    token = await csrf_of(admin, f"{space}/import")
    data = "姓名,手机号,邮箱,角色\n张伟,13800000001,,\n李娜,1380000,,\n".encode("gbk")
    result = await admin.post(
        f"{space}/import",
        form={"csrf_token": token},
        files={"file": ("成员.csv", data, "text/csv")},
    )
    assert result.status == 400
    assert 'id="import-report"' in result.text and "<td>3</td>" in result.text
    assert "张伟" not in (await admin.get(f"{space}/members")).text
    fixed = "\ufeff姓名,手机号\n张伟,13800000001\n李娜,13800000002\n".encode()
    result = await admin.post(
        f"{space}/import",
        form={"csrf_token": token},
        files={"file": ("成员.csv", fixed, "text/csv")},
    )
    assert result.status == 200
    members = (await admin.get(f"{space}/members")).text
    assert "张伟" in members and "李娜" in members


async def test_csv_import_without_file(admin: AsgiClient) -> None:
    space = await _create_space(admin, "A")
    token = await csrf_of(admin, f"{space}/import")
    result = await admin.post(f"{space}/import", form={"csrf_token": token}, files={})
    assert result.status == 400 and 'id="error-file"' in result.text


async def test_unknown_space_is_404(admin: AsgiClient) -> None:
    assert (await admin.get("/admin/spaces/99999")).status == 404
    assert (await admin.get("/99999/")).status == 404


async def test_space_url_names_the_space(server: Server, admin: AsgiClient) -> None:
    """The space URL (the sign-in entry, dingbridge.signin) opens with the space's name."""
    await _create_space(admin, "销售部")
    visitor = server.new_client()
    assert (await visitor.get("/10001")).status == 308
    page = await visitor.get("/10001/")
    assert page.status == 200 and "销售部" in page.text


async def test_a_refused_rename_keeps_the_space_and_says_why(admin: AsgiClient) -> None:
    space = await _create_space(admin, "销售部")
    refused = await admin.post(
        f"{space}/rename", form={"csrf_token": await csrf_of(admin, space), "name": "  "}
    )
    assert refused.status == 400
    assert 'id="error-name"' in refused.text
    assert "销售部" in (await admin.get(space)).text  # nothing was lost
