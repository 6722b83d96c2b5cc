"""The provider refuses what an attacker would try: a code used twice, a PKCE downgrade,
redirect URIs that only look registered, a token of one space at another, a refresh token
used again; and tokens and secrets stay out of the logs and the audit log."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import select

from dingbridge.storage.models import AuditEntry
from tests.oidc.oidc_world import Client, OidcWorld, authorize_url_result, query_of


def _authorize(world: OidcWorld, client: Client, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        **extra,
    }
    return str(httpx.URL(f"{world.issuer()}/oidc/authorize", params=params))


async def _code(world: OidcWorld, **extra: str) -> tuple[str, str]:
    """A code for the sample app (PKCE S256 unless ``extra`` says otherwise); the verifier."""
    client = world.clients["示例应用"]
    verifier = secrets.token_urlsafe(48)
    pkce = {"code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    async with world.browser() as browser:
        back = await authorize_url_result(
            world, browser, _authorize(world, client, **{**pkce, **extra})
        )
    return query_of(back)["code"], verifier


async def _exchange(
    world: OidcWorld, code: str, verifier: str | None, space_id: int = 10001
) -> httpx.Response:
    client = world.clients["示例应用"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    assert client.client_secret is not None
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{world.server}/{space_id}/oidc/token",
            data=form,
            auth=(client.client_id, client.client_secret),
        )


async def _userinfo(world: OidcWorld, access_token: str, space_id: int = 10001) -> int:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{world.server}/{space_id}/oidc/userinfo",
            headers={"Authorization": f"Bearer {access_token}"},
        )
    return answer.status_code


async def test_a_code_used_twice_fails_and_revokes_what_it_gave(oidc_world: OidcWorld) -> None:
    code, verifier = await _code(oidc_world)
    first = await _exchange(oidc_world, code, verifier)
    assert first.status_code == 200
    assert await _userinfo(oidc_world, first.json()["access_token"]) == 200
    second = await _exchange(oidc_world, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert await _userinfo(oidc_world, first.json()["access_token"]) == 401


async def test_pkce_cannot_be_left_out_or_downgraded(oidc_world: OidcWorld) -> None:
    code, _verifier = await _code(oidc_world)
    without = await _exchange(oidc_world, code, None)
    assert without.status_code == 400
    wrong_code, _ = await _code(oidc_world)
    wrong = await _exchange(oidc_world, wrong_code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    client = oidc_world.clients["示例应用"]
    async with oidc_world.browser() as browser:
        plain = await authorize_url_result(
            oidc_world,
            browser,
            _authorize(oidc_world, client, code_challenge="a" * 43, code_challenge_method="plain"),
        )
    assert query_of(plain)["error"] == "invalid_request" and "code" not in query_of(plain)
    # a public client must use PKCE at all
    spa = await oidc_world.add_app("单页应用", redirect_uri="http://127.0.0.1:9/cb", public=True)
    async with oidc_world.browser() as browser:
        bare = await authorize_url_result(oidc_world, browser, _authorize(oidc_world, spa))
    assert query_of(bare)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uri: uri + "x",
        lambda uri: uri + "/../evil",
        lambda uri: uri.replace("/callback", "/CALLBACK"),
        lambda uri: uri.replace("http://127.0.0.1", "http://127.0.0.1.evil.test"),
        lambda uri: uri + "?next=https://evil.test/",
        lambda uri: uri.replace("http://", "HTTP://"),
    ],
)
async def test_a_redirect_uri_must_match_exactly(oidc_world: OidcWorld, tamper: Any) -> None:
    client = oidc_world.clients["示例应用"]
    url = _authorize(oidc_world, client, redirect_uri=tamper(client.redirect_uri))
    async with httpx.AsyncClient(follow_redirects=False) as http:
        answer = await http.get(url)
    assert answer.status_code == 400
    assert "location" not in answer.headers  # never sent to an unregistered address
    assert 'id="oidc-error"' in answer.text


async def test_a_token_of_one_space_is_refused_by_another(oidc_world: OidcWorld) -> None:
    code, verifier = await _code(oidc_world)
    token = (await _exchange(oidc_world, code, verifier)).json()
    assert await _userinfo(oidc_world, token["access_token"], 10001) == 200
    assert await _userinfo(oidc_world, token["access_token"], 10002) == 401
    other = await oidc_world.add_app(
        "另一空间的应用", space_id=10002, redirect_uri="http://127.0.0.1:9/b"
    )
    assert other.client_secret is not None
    async with httpx.AsyncClient() as http:
        refreshed = await http.post(
            f"{oidc_world.server}/10002/oidc/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            auth=(other.client_id, other.client_secret),
        )
        seen = await http.post(
            f"{oidc_world.server}/10002/oidc/introspect",
            data={"token": token["access_token"]},
            auth=(other.client_id, other.client_secret),
        )
    assert refreshed.status_code == 400
    assert seen.json() == {"active": False}


async def test_a_reused_refresh_token_revokes_the_family(oidc_world: OidcWorld) -> None:
    code, verifier = await _code(oidc_world)
    first = (await _exchange(oidc_world, code, verifier)).json()
    client = oidc_world.clients["示例应用"]
    assert client.client_secret is not None

    async def refresh(refresh_token: str) -> httpx.Response:
        async with httpx.AsyncClient() as http:
            return await http.post(
                f"{oidc_world.server}/10001/oidc/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=(client.client_id, client.client_secret or ""),
            )

    second = await refresh(first["refresh_token"])
    assert second.status_code == 200
    stolen = await refresh(first["refresh_token"])  # the old one again: a copy was kept
    assert stolen.status_code == 400
    assert await _userinfo(oidc_world, second.json()["access_token"]) == 401
    assert (await refresh(second.json()["refresh_token"])).status_code == 400


async def test_tokens_and_secrets_stay_out_of_logs_and_the_audit_log(
    oidc_world: OidcWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, verifier = await _code(oidc_world)
    token = (await _exchange(oidc_world, code, verifier)).json()
    await _exchange(oidc_world, code, verifier)  # a replay, logged as a warning
    async with oidc_world.browser() as browser:
        entry = await browser.get(oidc_world.sample + "/")
        await oidc_world.sign_in(browser, entry)
        home = await browser.get(f"{oidc_world.server}/10001/")
        form_token = home.text.split('name="token" value="')[1].split('"')[0]
        await browser.post(f"{oidc_world.server}/10001/logout", data={"token": form_token})
    client = oidc_world.clients["示例应用"]
    secrets_seen = [
        code,
        verifier,
        token["access_token"],
        token["refresh_token"],
        token["id_token"],
        str(client.client_secret),
    ]
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("dingbridge", "uvicorn"))
    )
    assert "signed out of 1 app(s)" in logged  # the logs did see this flow
    async with oidc_world.context.db.session() as session:
        audit = " ".join(
            repr(row.details) + row.target for row in await session.scalars(select(AuditEntry))
        )
    for value in secrets_seen:
        assert value not in logged
        assert value not in audit
