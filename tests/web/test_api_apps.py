"""``/api/v1/spaces/{id}/apps`` with an API token: create, list, read, change, rotate, delete;
the client secret only in the create and rotate answers; bad input named per field and nothing
stored; in the OpenAPI document."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from dingbridge.settings import Settings
from dingbridge.spaces.departments import DirectoryDepartment, list_departments, record_directory
from tests.web.conftest import AsgiClient, Result, Server
from tests.web.test_api_auth import bearer, new_token

APPS = "/api/v1/spaces/10001/apps"
GITEA = {
    "name": "Gitea",
    "url": "https://git.example.com/",
    "redirect_uris": ["https://git.example.com/user/oauth2/dingbridge/callback"],
    "backchannel_logout_uri": "http://10.0.0.7:3000/logout",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=8000, external_url="https://apps.example.cn/")


class Api:
    def __init__(self, client: AsgiClient, token: str) -> None:
        self.client, self.token = client, token

    async def call(self, method: str, url: str, body: object = None) -> Result:
        headers = bearer(self.token)
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        return await self.client.request(method, url, headers=headers, body=data)


@pytest.fixture
async def api(server: Server, admin: AsgiClient) -> Api:
    api = Api(server.new_client(), await new_token(admin))
    assert (await api.call("POST", "/api/v1/spaces", {"name": "示例空间"})).status == 201
    return api


async def test_create_shows_the_secret_once_and_never_again(
    api: Api, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await api.call("POST", APPS, GITEA)
    assert created.status == 201, created.text
    body = created.json()
    secret = body["client_secret"]
    assert secret.startswith("dbs_") and body["client_id"].startswith("dbc_")
    assert body["kind"] == "oidc" and body["issuer"] == "https://apps.example.cn/10001"
    assert body["client_secret_set"] is True

    listed = await api.call("GET", APPS)
    one = await api.call("GET", f"{APPS}/{body['id']}")
    assert listed.status == one.status == 200
    assert [a["name"] for a in listed.json()] == ["Gitea"]
    assert "client_secret" not in one.json() and secret not in listed.text + one.text

    rotated = await api.call("POST", f"{APPS}/{body['id']}/rotate-secret")
    assert rotated.status == 200
    assert set(rotated.json()) == {"id", "client_id", "client_secret", "issuer"}
    assert rotated.json()["client_secret"] not in (secret, None)

    audit = await api.call("GET", "/api/v1/audit")
    assert "space_app.rotate_secret" in audit.text
    for shown in (secret, rotated.json()["client_secret"]):
        assert shown not in audit.text and shown not in caplog.text


async def test_change_access_kind_and_delete(api: Api, server: Server) -> None:
    context = server.app.state.context
    async with context.db.transaction() as session:
        await record_directory(
            session,
            10001,
            [DirectoryDepartment(1, "公司", None), DirectoryDepartment(5, "财务部", 1)],
            {},
        )
        finance = next(d.id for d in await list_departments(session, 10001) if d.dept_id == 5)
    departments = await api.call("GET", "/api/v1/spaces/10001/departments")
    assert {d["name"]: d["id"] for d in departments.json()}["财务部"] == finance

    created = (await api.call("POST", APPS, {"name": "报销", "url": "/expense"})).json()
    assert created["kind"] == "link" and created["client_secret"] is None
    changed = await api.call(
        "PATCH", f"{APPS}/{created['id']}", {"access": "departments", "departments": [finance]}
    )
    assert changed.status == 200, changed.text
    assert changed.json()["access"] == "departments" and changed.json()["departments"] == [finance]
    assert changed.json()["name"] == "报销"  # untouched fields stay

    oidc = (await api.call("POST", APPS, GITEA)).json()
    as_link = await api.call("PATCH", f"{APPS}/{oidc['id']}", {"kind": "link"})
    assert as_link.status == 200, as_link.text
    assert as_link.json()["client_id"] is None and as_link.json()["redirect_uris"] == []

    assert (await api.call("DELETE", f"{APPS}/{created['id']}")).status == 204
    assert (await api.call("GET", f"{APPS}/{created['id']}")).status == 404
    assert (await api.call("DELETE", f"{APPS}/{created['id']}")).status == 404


async def test_bad_input_is_named_per_field_and_stores_nothing(api: Api) -> None:
    refused = await api.call(
        "POST",
        APPS,
        {
            "name": "",
            "url": "ftp://x",
            "redirect_uris": ["https://app.example.com/cb#f", "https://*.example.com/"],
            "access": "members",
        },
    )
    assert refused.status == 400
    problems = refused.json()["problems"]
    assert set(problems) == {"name", "url", "redirect_uris", "members"}
    assert (await api.call("GET", APPS)).json() == []
    unknown = await api.call("POST", APPS, {**GITEA, "client_secret": "mine"})
    assert unknown.status in (400, 422)
    assert (await api.call("GET", APPS)).json() == []
    public = (await api.call("POST", APPS, {**GITEA, "public_client": True})).json()
    assert public["client_secret"] is None and public["public_client"] is True
    no_rotate = await api.call("POST", f"{APPS}/{public['id']}/rotate-secret")
    assert no_rotate.status == 400 and "public_client" in no_rotate.json()["problems"]
    other_space = await api.call("GET", "/api/v1/spaces/10002/apps")
    assert other_space.status == 404


async def test_the_apps_are_in_the_openapi_document(api: Api) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert set(paths[APPS.replace("10001", "{space_id}")]) == {"get", "post"}
    one = paths["/api/v1/spaces/{space_id}/apps/{app_id}"]
    assert set(one) == {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/spaces/{space_id}/apps/{app_id}/rotate-secret"]
    assert "/api/v1/spaces/{space_id}/departments" in paths
    schemas = document["components"]["schemas"]
    assert "client_secret" not in schemas["AppOut"]["properties"]
    assert "client_secret" in schemas["AppCreatedOut"]["properties"]
