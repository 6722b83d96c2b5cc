"""Secrets absent from the database in plaintext, from pages, API answers, audit entries and
logs: after a member binds by SMS, an OpenID app gets its client secret and issues tokens,
the space's signing key is made, an API token is created and the AppSecret is saved, the
SQLite file's bytes and an ``iterdump()`` of it hold none of the AppSecret, the SMS code, the
member's and the admin's session ids, the client secret, the access, refresh and ID tokens,
the API token or the signing key's private part. Pages, API answers, audit entries and logs
of the console features: ``tests/web/test_secrets_stay_hidden.py``; the OpenID tokens in logs
and the audit log: ``tests/oidc/test_security.py``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import sqlite3
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from dingbridge.sim.defaults import FULL_APP
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.apps import create_space_app
from dingbridge.storage.models import OidcSigningKey
from dingbridge.web.console.session import ADMIN_COOKIE
from dingbridge.web.space.cookies import SESSION_COOKIE
from tests.signin.signin_world import World, admin_browser
from tests.web.test_api_auth import TOKEN_RE


async def _oidc_tokens(world: World, member: object) -> list[str]:
    async with world.context.db.transaction() as session:
        saved = await create_space_app(
            session,
            10001,
            AppInput(
                name="示例",
                url="https://app.test/",
                kind="oidc",
                redirect_uris=("https://app.test/cb",),
            ),
            actor="test",
        )
    await world.context.signin.spaces.settle()
    client_id, client_secret = saved.detail.app.client_id, saved.client_secret
    assert client_id and client_secret
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    url = (
        f"/10001/oidc/authorize?response_type=code&scope={quote('openid profile')}"
        f"&client_id={client_id}&redirect_uri={quote('https://app.test/cb')}&state=s"
        f"&code_challenge={challenge.decode().rstrip('=')}&code_challenge_method=S256"
    )
    back = await member.get(url)  # type: ignore[attr-defined]
    code = parse_qs(urlsplit(back.header("location") or "").query)["code"][0]
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.test/cb",
        "code_verifier": verifier,
    }
    answer = await world.new_browser().post(
        "/10001/oidc/token", form, headers={"authorization": f"Basic {basic}"}
    )
    tokens = answer.json()
    assert answer.status == 200, tokens
    return [
        client_secret,
        code,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
    ]


async def test_no_secret_in_the_database_in_plaintext(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    member = world.new_browser()
    await world.in_client(member, "user001")
    await world.bind(member, "13800000001")
    sms_code = re.search(r"(\d{6})", world.outbox.messages[-1].text)
    assert sms_code is not None
    oidc = await _oidc_tokens(world, member)
    admin = await admin_browser(world)
    made = await admin.post(
        "/admin/tokens", {"csrf_token": (await admin.get("/admin/tokens")).csrf(), "name": "ci"}
    )
    api_token = TOKEN_RE.search(made.text)
    assert api_token is not None
    async with world.context.db.session() as session:
        row = await session.scalar(select(OidcSigningKey))
    assert row is not None
    private = json.loads(world.context.secret_box.decrypt(row.private_key_encrypted))
    wanted = {
        "AppSecret": FULL_APP.app_secret,
        "SMS code": f"code {sms_code.group(1)}",
        "member session": member.cookies[SESSION_COOKIE],
        "admin session": admin.cookies[ADMIN_COOKIE],
        "client secret": oidc[0],
        "authorization code": oidc[1],
        "access token": oidc[2],
        "refresh token": oidc[3],
        "ID token": oidc[4],
        "API token": api_token.group(1).removeprefix("dbt_"),
        "signing key": private.get("d") or private["p"],
    }
    path = world.settings.data_dir / "dingbridge.db"
    raw = path.read_bytes()
    with sqlite3.connect(path) as connection:
        dump = "\n".join(connection.iterdump())
    assert "oidc_signing_keys" in dump and "space_apps" in dump  # the dump is the real one
    for name, secret in wanted.items():
        assert secret.encode() not in raw, f"{name} in the database file"
        assert secret not in dump, f"{name} in the database dump"
        if name != "SMS code":  # the code is in the development outbox's log line by design
            assert secret not in caplog.text, f"{name} in the log"
    assert len(wanted) == 11
