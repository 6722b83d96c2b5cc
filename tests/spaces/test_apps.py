"""A space's apps (dingbridge.spaces.apps): every field checked with a clear message per field,
bad input stores nothing, client secrets shown once and stored hashed, never in the audit log."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.spaces import store
from dingbridge.spaces.app_access import client_secret_matches
from dingbridge.spaces.app_input import AppInput, uri_problem
from dingbridge.spaces.apps import (
    create_space_app,
    delete_app,
    find_app,
    get_app,
    list_apps,
    rotate_client_secret,
    set_app_access,
    update_space_app,
)
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.storage.db import Database
from dingbridge.storage.models import AppAccess, AuditEntry, Department, SpaceApp

OIDC = AppInput(
    name="  Grafana   监控 ",
    url="https://grafana.example.com/",
    kind="oidc",
    redirect_uris=(
        "https://grafana.example.com/login/generic_oauth",
        " https://grafana.example.com/login/generic_oauth ",
    ),
    post_logout_redirect_uris=("https://grafana.example.com/",),
    backchannel_logout_uri="http://10.0.0.5:3000/backchannel",
)


async def new_space(db: Database, name: str = "示例空间") -> int:
    async with db.transaction() as session:
        return (await store.create_space(session, name, actor="test")).id


async def audit_text(db: Database) -> str:
    async with db.session() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    return json.dumps([[e.action, e.target, e.details] for e in entries], ensure_ascii=False)


async def count_apps(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(SpaceApp)) or 0)


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("https://app.example.com/cb#x", "fragment"),
        ("https://*.example.com/cb", "Wildcard"),
        ("https://app.example.com/*", "Wildcard"),
        ("/relative/cb", "absolute"),
        ("ftp://app.example.com/cb", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("https:///cb", "absolute"),
        ("https://user:pw@app.example.com/cb", "user name"),
        ("https://app.example.com:99999/cb", "port"),
        ("https://app.example.com/a b", "spaces"),
    ],
)
def test_bad_redirect_uris_are_named(uri: str, fragment: str) -> None:
    problem = uri_problem(uri)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    "uri",
    [
        "http://10.0.0.5:8080/cb",
        "https://app.example.com/oauth2/callback?x=1",
        "HTTPS://A.example/",
    ],
)
def test_intranet_http_and_queries_are_accepted(uri: str) -> None:
    assert uri_problem(uri) is None


async def test_an_oidc_app_gets_a_client_id_and_a_secret_shown_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    space_id = await new_space(db)
    caplog.set_level(logging.DEBUG)
    async with db.transaction() as session:
        saved = await create_space_app(session, space_id, OIDC, actor="admin:ops")
    secret = saved.client_secret
    assert secret is not None and secret.startswith("dbs_") and len(secret) > 40
    async with db.session() as session:
        app = (await get_app(session, space_id, saved.app.id)).app
    assert app.title == "Grafana 监控"
    assert app.client_id is not None and app.client_id.startswith("dbc_")
    assert app.redirect_uris == ["https://grafana.example.com/login/generic_oauth"]  # deduped
    assert app.backchannel_logout_uri == "http://10.0.0.5:3000/backchannel"
    assert app.client_secret_hash and secret not in app.client_secret_hash
    assert client_secret_matches(app.client_secret_hash, secret)
    assert not client_secret_matches(app.client_secret_hash, secret + "x")
    recorded = await audit_text(db)
    assert "space_app.add" in recorded and app.client_id in recorded
    assert secret not in recorded and app.client_secret_hash not in recorded
    assert secret not in caplog.text


async def test_a_public_client_gets_no_secret(db: Database) -> None:
    space_id = await new_space(db)
    async with db.transaction() as session:
        saved = await create_space_app(
            session,
            space_id,
            AppInput(
                name="手机端",
                url="https://m.example.com/",
                kind="oidc",
                redirect_uris=("https://m.example.com/cb",),
                public_client=True,
            ),
            actor="admin:ops",
        )
    assert saved.client_secret is None
    assert saved.app.public_client and saved.app.client_secret_hash is None
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed) as refused:
            await rotate_client_secret(session, space_id, saved.app.id, actor="admin:ops")
    assert "public_client" in refused.value.problems


async def test_every_bad_field_is_named_and_nothing_is_stored(db: Database) -> None:
    space_id = await new_space(db)
    bad = AppInput(
        name=" ",
        url="javascript:alert(1)",
        icon="data:image/png;base64,xx",
        kind="oidc",
        access="departments",
        redirect_uris=("https://app.example.com/cb#frag",),
        post_logout_redirect_uris=("https://*.example.com/",),
        backchannel_logout_uri="nope",
    )
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed) as failed:
            await create_space_app(session, space_id, bad, actor="admin:ops")
    assert set(failed.value.problems) == {
        "name",
        "url",
        "icon",
        "departments",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
    }
    assert "fragment" in failed.value.problems["redirect_uris"]
    assert "Wildcard" in failed.value.problems["post_logout_redirect_uris"]
    assert await count_apps(db) == 0


async def test_oidc_fields_belong_to_oidc_apps_only(db: Database) -> None:
    space_id = await new_space(db)
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed) as failed:
            await create_space_app(
                session,
                space_id,
                AppInput(name="Wiki", url="https://wiki/", redirect_uris=("https://wiki/cb",)),
                actor="t",
            )
        assert set(failed.value.problems) == {"redirect_uris"}
        with pytest.raises(ValidationFailed) as no_uri:
            await create_space_app(
                session, space_id, AppInput(name="Wiki", url="/wiki", kind="oidc"), actor="t"
            )
        assert "at least one redirect URI" in no_uri.value.problems["redirect_uris"]
    assert await count_apps(db) == 0


async def test_rotating_replaces_the_secret_and_audits_without_it(db: Database) -> None:
    space_id = await new_space(db)
    async with db.transaction() as session:
        saved = await create_space_app(session, space_id, OIDC, actor="admin:ops")
    async with db.transaction() as session:
        rotated = await rotate_client_secret(session, space_id, saved.app.id, actor="admin:ops")
    async with db.session() as session:
        app = (await get_app(session, space_id, saved.app.id)).app
    assert saved.client_secret is not None and rotated != saved.client_secret
    assert client_secret_matches(app.client_secret_hash, rotated)
    assert not client_secret_matches(app.client_secret_hash, saved.client_secret)
    recorded = await audit_text(db)
    assert "space_app.rotate_secret" in recorded
    assert rotated not in recorded and saved.client_secret not in recorded


async def test_update_keeps_the_client_and_switching_kinds_issues_or_drops_it(
    db: Database,
) -> None:
    space_id = await new_space(db)
    async with db.transaction() as session:
        link = await create_space_app(
            session, space_id, AppInput(name="Wiki", url="https://wiki.example.com/"), actor="t"
        )
    assert link.client_secret is None and link.app.client_id is None
    as_oidc = AppInput(
        name="Wiki",
        url="https://wiki.example.com/",
        kind="oidc",
        redirect_uris=("https://wiki.example.com/cb",),
    )
    async with db.transaction() as session:
        became = await update_space_app(session, space_id, link.app.id, as_oidc, actor="t")
    client_id = became.app.client_id
    assert client_id is not None and became.client_secret is not None
    renamed = AppInput(**{**as_oidc.__dict__, "name": "知识库"})
    async with db.transaction() as session:
        again = await update_space_app(session, space_id, link.app.id, renamed, actor="t")
    assert again.client_secret is None and again.app.client_id == client_id
    assert again.app.title == "知识库"
    async with db.transaction() as session:
        back = await update_space_app(
            session, space_id, link.app.id, AppInput(name="知识库", url="/wiki"), actor="t"
        )
    assert back.app.client_id is None and back.app.client_secret_hash is None
    assert back.app.redirect_uris == []
    recorded = await audit_text(db)
    assert "space_app.update" in recorded and became.client_secret not in recorded


async def test_grants_must_be_the_spaces_own_and_are_replaced(db: Database) -> None:
    space_id = await new_space(db)
    other_id = await new_space(db, "别的空间")
    async with db.transaction() as session:
        mine = await add_member(session, space_id, MemberInput("张伟", "13800000001"), actor="t")
        theirs = await add_member(session, other_id, MemberInput("李娜", "13800000003"), actor="t")
        department = Department(space_id=space_id, dept_id=2, name="研发部", parent_id=1)
        session.add(department)
        await session.flush()
        app = (
            await create_space_app(session, space_id, AppInput(name="A", url="/a"), actor="t")
        ).app
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed) as failed:
            await set_app_access(
                session, space_id, app.id, "members", members=[mine.id, theirs.id], actor="t"
            )
    assert "not in this space" in failed.value.problems["members"]
    async with db.transaction() as session:
        detail = await set_app_access(
            session, space_id, app.id, "departments", departments=[department.id], actor="t"
        )
    assert detail.app.access == "departments" and detail.departments == (department.id,)
    async with db.transaction() as session:
        detail = await set_app_access(
            session, space_id, app.id, "members", members=[mine.id], actor="t"
        )
    assert detail.departments == () and detail.members == (mine.id,)
    async with db.session() as session:
        rows = (await session.scalars(select(AppAccess))).all()
        listed = await list_apps(session, space_id)
    assert [(r.department_id, r.member_id) for r in rows] == [(None, mine.id)]
    assert listed[0].members == (mine.id,)


async def test_find_delete_and_other_spaces(db: Database) -> None:
    space_id = await new_space(db)
    other_id = await new_space(db, "别的空间")
    async with db.transaction() as session:
        saved = await create_space_app(session, space_id, OIDC, actor="t")
    client_id = saved.app.client_id
    assert client_id is not None
    async with db.session() as session:
        assert (await find_app(session, space_id, client_id)).app.id == saved.app.id
        assert (await find_app(session, space_id, str(saved.app.id))).app.id == saved.app.id
        with pytest.raises(NotFound):
            await find_app(session, other_id, client_id)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await delete_app(session, other_id, saved.app.id, actor="t")
    async with db.transaction() as session:
        await delete_app(session, space_id, saved.app.id, actor="t")
    assert await count_apps(db) == 0
    assert "space_app.delete" in await audit_text(db)
