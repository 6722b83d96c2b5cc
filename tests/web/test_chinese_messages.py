"""The Chinese console shows Chinese: Python-side errors (CSV header, forward address), check
results without DingTalk's raw English, roles by their Chinese name."""

from __future__ import annotations

from types import SimpleNamespace

from dingbridge.web.templating import Templates
from tests.web.conftest import AsgiClient, csrf_of


async def _space(admin: AsgiClient) -> None:
    await admin.post("/admin/spaces", form={"csrf_token": await csrf_of(admin), "name": "销售部"})


async def test_a_csv_without_column_names_is_refused_in_chinese(admin: AsgiClient) -> None:
    await _space(admin)
    page = await admin.get("/admin/spaces/10001/import")
    result = await admin.post(
        "/admin/spaces/10001/import",
        form={"csrf_token": page.csrf()},
        files={"file": ("m.csv", "张伟,13800000001\n".encode(), "text/csv")},
    )
    assert result.status == 400
    assert "第一行必须是列名；缺少：姓名/name, 手机号/mobile。" in result.text
    assert "The first line" not in result.text
    await admin.get("/lang/en")
    result = await admin.post(
        "/admin/spaces/10001/import",
        form={"csrf_token": page.csrf()},
        files={"file": ("m.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert "The first line must name the columns; missing: 姓名/name, 手机号/mobile." in result.text


async def test_a_bad_forward_address_is_explained_in_chinese(admin: AsgiClient) -> None:
    await _space(admin)
    page = await admin.get("/admin/spaces/10001/dingtalk")
    result = await admin.post(
        "/admin/spaces/10001/dingtalk",
        form={
            "csrf_token": page.csrf(),
            "corp_name": "",
            "corp_id": "",
            "agent_id": "",
            "app_key": "",
            "app_secret": "",
            "api_version": "v2",
            "forward_url": "http://203.0.113.5:888/forward/",
        },
    )
    assert result.status == 400
    assert (
        "钉钉API转发地址的路径必须以 /api-dingtalk-com/ 或 /oapi-dingtalk-com/ 结尾" in result.text
    )
    assert "the path must end" not in result.text.lower()


async def test_roles_read_in_chinese(admin: AsgiClient) -> None:
    await _space(admin)
    token = await csrf_of(admin, "/admin/spaces/10001/members")
    await admin.post(
        "/admin/spaces/10001/members",
        form={"csrf_token": token, "name": "张伟", "mobile": "13800000001", "status": "active"},
    )
    table = (await admin.get("/admin/spaces/10001/members")).text.split('id="members"')[1]
    assert '<td data-label="角色">成员</td>' in table and ">member</td>" not in table


def test_a_passing_check_shows_no_raw_dingtalk_error() -> None:
    checks = [
        SimpleNamespace(
            id="agent_id",
            status="pass",
            title_zh="AgentId 属于此应用",
            title_en="AgentId belongs to this app",
            cause=None,
            fix=None,
            detail="AuthCodeInvalid: 不存在的临时授权码 errcode=40078",
        ),
        SimpleNamespace(
            id="corp_id",
            status="fail",
            title_zh="CorpId 属于此应用的企业",
            title_en="CorpId is this app's organisation",
            cause={"zh_CN": "企业ID 不对", "en": "wrong"},
            fix=None,
            detail="unauthorized.client",
        ),
    ]
    env = Templates("zh_CN")._envs["zh_CN"]
    html = env.get_template("console/_check_results.html").render(
        test_run=SimpleNamespace(checks=checks), en=False
    )
    assert "AuthCodeInvalid" not in html and "errcode=40078" not in html
    assert "技术细节" in html and "unauthorized.client" in html  # kept for failures, folded
