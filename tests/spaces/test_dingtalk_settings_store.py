"""The DingTalk settings store: shapes, encryption at rest, masking in the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from dingbridge.errors import ValidationFailed
from dingbridge.spaces.dingtalk_settings import (
    DingTalkInput,
    dingtalk_bases,
    load_dingtalk,
    normalize_forward_url,
    reencrypt_all,
    reveal_app_secret,
    save_dingtalk,
)
from dingbridge.spaces.secret_box import SecretBox, SecretUnreadable
from dingbridge.spaces.store import create_space
from dingbridge.storage.db import Database
from dingbridge.storage.models import AuditEntry

SECRET = "sim-secret-full-0001"
VALID = DingTalkInput(
    enabled=True,
    corp_name="示例科技有限公司",
    corp_id="ding5f2a7c31e08b4d96",
    agent_id="3001001",
    app_key="dingfullaccess0001ab",
    app_secret=SECRET,
    api_version="v2",
    forward_url="",
)


async def _space(db: Database) -> int:
    async with db.transaction() as s:
        return (await create_space(s, "A", actor="test")).id


async def test_secret_is_encrypted_at_rest_and_readable(db: Database, box: SecretBox) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        config = await save_dingtalk(s, box, space_id, VALID, actor="admin:a")
    assert config.has_app_secret
    assert SECRET not in repr(config)
    async with db.session() as s:
        raw = (await s.execute(text("SELECT app_secret_encrypted FROM dingtalk_settings"))).scalar()
        loaded = await load_dingtalk(s, space_id)
    assert raw and SECRET not in raw
    assert reveal_app_secret(box, loaded) == SECRET


async def test_blank_secret_keeps_the_stored_one(db: Database, box: SecretBox) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        await save_dingtalk(s, box, space_id, VALID, actor="a")
    async with db.transaction() as s:
        changed = DingTalkInput(**{**VALID.__dict__, "app_secret": "", "corp_name": "新名字"})
        await save_dingtalk(s, box, space_id, changed, actor="a")
    async with db.session() as s:
        config = await load_dingtalk(s, space_id)
    assert config.corp_name == "新名字"
    assert reveal_app_secret(box, config) == SECRET


async def test_audit_has_old_and_new_values_and_no_secret(db: Database, box: SecretBox) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        await save_dingtalk(s, box, space_id, VALID, actor="admin:a")
    async with db.transaction() as s:
        changed = DingTalkInput(
            **{**VALID.__dict__, "app_secret": "another-secret-9", "agent_id": "42"}
        )
        await save_dingtalk(s, box, space_id, changed, actor="admin:a")
    async with db.session() as s:
        entries = list(
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "dingtalk.update"))
        )
    dumped = json.dumps([e.details for e in entries], ensure_ascii=False)
    assert SECRET not in dumped and "another-secret-9" not in dumped
    assert entries[1].details["agent_id"] == {"old": "3001001", "new": "42"}
    assert entries[1].details["app_secret"] == {"old": "(set)", "new": "(set)"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("corp_id", "5f2a7c31e08b4d96"),
        ("corp_id", "ding 5f2a"),
        ("agent_id", "30010a1"),
        ("app_key", "bad key!"),
        ("api_version", "v3"),
        ("forward_url", "ftp://203.0.113.5:888/api-dingtalk-com/"),
        ("forward_url", "http://203.0.113.5:888/some/path/"),
        ("forward_url", "203.0.113.5:888"),
    ],
)
async def test_bad_shapes_are_refused(db: Database, box: SecretBox, field: str, value: str) -> None:
    space_id = await _space(db)
    with pytest.raises(ValidationFailed) as failed:
        async with db.transaction() as s:
            await save_dingtalk(
                s, box, space_id, DingTalkInput(**{**VALID.__dict__, field: value}), actor="a"
            )
    assert field in failed.value.problems


async def test_every_problem_reported_at_once(db: Database, box: SecretBox) -> None:
    space_id = await _space(db)
    bad = DingTalkInput(enabled=True, corp_name="", corp_id="x", agent_id="y", app_key="")
    with pytest.raises(ValidationFailed) as failed:
        async with db.transaction() as s:
            await save_dingtalk(s, box, space_id, bad, actor="a")
    assert {"corp_id", "agent_id", "app_key", "app_secret"} <= set(failed.value.problems)


async def test_disabled_settings_may_be_incomplete(db: Database, box: SecretBox) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        config = await save_dingtalk(
            s,
            box,
            space_id,
            DingTalkInput(enabled=False, corp_name="草稿", corp_id="", agent_id="", app_key=""),
            actor="a",
        )
    assert not config.enabled and not config.has_app_secret


def test_forward_address_forms() -> None:
    assert (
        normalize_forward_url("http://203.0.113.5:888/api-dingtalk-com")
        == "http://203.0.113.5:888/api-dingtalk-com/"
    )
    assert normalize_forward_url("http://203.0.113.5:888") == "http://203.0.113.5:888/"
    assert normalize_forward_url("  ") is None
    api, oapi = dingtalk_bases(
        "http://203.0.113.5:888/api-dingtalk-com/",
        "https://api.dingtalk.com",
        "https://oapi.dingtalk.com",
    )
    assert (api, oapi) == (
        "http://203.0.113.5:888/api-dingtalk-com/",
        "http://203.0.113.5:888/oapi-dingtalk-com/",
    )
    api, oapi = dingtalk_bases("http://gw/oapi-dingtalk-com/", "x", "y")
    assert (api, oapi) == ("http://gw/api-dingtalk-com/", "http://gw/oapi-dingtalk-com/")
    assert dingtalk_bases(None, "https://api.dingtalk.com", "https://oapi.dingtalk.com") == (
        "https://api.dingtalk.com/",
        "https://oapi.dingtalk.com/",
    )


async def test_key_rotation_reencrypts_and_old_key_still_reads(db: Database) -> None:
    old_box = SecretBox(["old-key-" * 5])
    space_id = await _space(db)
    async with db.transaction() as s:
        await save_dingtalk(s, old_box, space_id, VALID, actor="a")
    rotating = SecretBox(["new-key-" * 5, "old-key-" * 5])
    async with db.session() as s:
        assert reveal_app_secret(rotating, await load_dingtalk(s, space_id)) == SECRET
    async with db.transaction() as s:
        assert await reencrypt_all(s, rotating) == 1
    new_only = SecretBox(["new-key-" * 5])
    async with db.session() as s:
        config = await load_dingtalk(s, space_id)
    assert reveal_app_secret(new_only, config) == SECRET
    with pytest.raises(SecretUnreadable):
        reveal_app_secret(old_box, config)
