"""authlib's own Starlette OAuth client (the sample app) as a relying party over real sockets:
discovery, code + PKCE, the ID token verified against the JWKS, userinfo, refresh, revocation,
RP-initiated and back-channel logout, and a public client."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from dingbridge.events.apply import handle_event
from dingbridge.events.payload import DirectoryEvent
from dingbridge.signin.member_sessions import delete_member
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.members import set_member_status
from dingbridge.storage.models import Binding
from tests.oidc.oidc_world import OidcWorld, authorize_url_result, oauth_client, query_of


async def _tokens(world: OidcWorld, name: str = "示例应用", **params: str) -> dict[str, Any]:
    """Code + PKCE with authlib's client; the token response (and the nonce sent)."""
    client = world.clients[name]
    async with httpx.AsyncClient() as http:
        meta = (await http.get(f"{world.issuer()}/.well-known/openid-configuration")).json()
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    async with oauth_client(world, client) as rp, world.browser() as browser:
        url, state = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
        )
        back = await authorize_url_result(world, browser, url)
        assert query_of(back).get("state") == state
        token = await rp.fetch_token(
            meta["token_endpoint"], authorization_response=back, code_verifier=verifier
        )
    return {**token, "nonce": nonce}


async def test_discovery_is_valid_provider_metadata(oidc_world: OidcWorld) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{oidc_world.issuer()}/.well-known/openid-configuration")
        meta = OpenIDProviderMetadata(answer.json())
        meta.validate()
        assert meta["issuer"] == f"{oidc_world.server}/10001"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        keys = (await http.get(meta["jwks_uri"])).json()["keys"]
        assert keys and all("d" not in key for key in keys)  # public halves only


async def test_the_sample_app_opens_signed_in_through_the_space(oidc_world: OidcWorld) -> None:
    world = oidc_world
    async with world.browser() as browser:
        entry = await browser.get(world.sample + "/")
        assert entry.url.path == "/10001/"  # sent through the space's sign-in
        app_page = await world.sign_in(browser, entry)
        assert str(app_page.url) == world.sample + "/", app_page.text[-800:]
        assert "张伟" in app_page.text
        assert 'data-claim="dingtalk"' in app_page.text
        assert "user001" in app_page.text
        # Signed in to the space now: the app's next sign-in shows no page at all.
        browser.cookies.delete("sample_app_session")
        again = await browser.get(world.sample + "/")
        assert str(again.url) == world.sample + "/" and "张伟" in again.text
        assert all(not str(r.url).endswith("/10001/") for r in again.history)


async def test_id_token_verifies_against_the_jwks_and_userinfo_agrees(
    oidc_world: OidcWorld,
) -> None:
    world = oidc_world
    token = await _tokens(world)
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{world.issuer()}/oidc/jwks")).json()
        userinfo = await http.get(
            f"{world.issuer()}/oidc/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
    id_token = jwt.decode(token["id_token"], KeySet.import_key_set(jwks))
    claims = id_token.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": world.issuer()},
        aud={"essential": True, "value": world.clients["示例应用"].client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": token["nonce"]},
    ).validate(claims)
    assert id_token.header["alg"] == "RS256"
    info = userinfo.json()
    assert userinfo.status_code == 200
    assert info["sub"] == claims["sub"]
    assert info["name"] == "张伟"
    assert info["phone_number"] == "+8613800000001"
    assert info["dingtalk"]["userid"] == "user001"
    # sub is neither the mobile, the DingTalk userid nor the database id
    assert info["sub"] not in ("13800000001", "+8613800000001", "user001", "1")


async def test_refresh_rotates_and_revocation_ends_the_tokens(oidc_world: OidcWorld) -> None:
    world = oidc_world
    first = await _tokens(world)
    client = world.clients["示例应用"]
    endpoint = f"{world.issuer()}/oidc"
    async with oauth_client(world, client) as rp:
        second = await rp.refresh_token(f"{endpoint}/token", refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        live = (await rp.introspect_token(f"{endpoint}/introspect", second["access_token"])).json()
        assert live["active"] is True and live["client_id"] == client.client_id
        revoked = await rp.revoke_token(f"{endpoint}/revoke", second["refresh_token"])
        assert revoked.status_code == 200
        gone = (await rp.introspect_token(f"{endpoint}/introspect", second["access_token"])).json()
        assert gone == {"active": False}
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{endpoint}/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"}
        )
    assert answer.status_code == 401


async def test_rp_initiated_logout_returns_to_the_registered_uri(oidc_world: OidcWorld) -> None:
    world = oidc_world
    async with world.browser() as browser:
        entry = await browser.get(world.sample + "/")
        await world.sign_in(browser, entry)
        out = await browser.post(world.sample + "/logout")
        assert str(out.url).startswith(world.sample + "/signed-out")
        # the space's session ended too: its entry page, not its home
        space = await browser.get(f"{world.server}/10001/")
        assert 'id="space-home"' not in space.text


async def test_signing_out_of_the_space_reaches_the_app_by_back_channel(
    oidc_world: OidcWorld,
) -> None:
    world = oidc_world
    async with world.browser() as browser:
        entry = await browser.get(world.sample + "/")
        await world.sign_in(browser, entry)
        home = await browser.get(f"{world.server}/10001/")
        token = home.text.split('name="token" value="')[1].split('"')[0]
        await browser.post(f"{world.server}/10001/logout", data={"token": token})
        assert world.sample_app.state.ended.sids  # the app was told, and by session
        after = await browser.get(world.sample + "/")
        assert after.url.path == "/10001/"  # signed out of the app: back to the sign-in


async def test_a_public_client_signs_in_with_pkce_and_no_secret(oidc_world: OidcWorld) -> None:
    world = oidc_world
    await world.add_app("单页应用", redirect_uri="http://127.0.0.1:9/spa/callback", public=True)
    token = await _tokens(world, "单页应用")
    assert token["token_type"].lower() == "bearer" and token["id_token"]


@pytest.mark.parametrize("how", ["disabled", "deleted", "left_dingtalk"])
async def test_a_member_disabled_deleted_or_gone_from_dingtalk_is_logged_out_of_apps_at_once(
    oidc_world: OidcWorld, how: str
) -> None:
    """Not at their next request: when the change commits, the app's tokens are revoked and the
    app is told by back-channel (with the member's ``sub``, which a deletion must not lose)."""
    world = oidc_world
    async with world.browser() as browser:
        entry = await browser.get(world.sample + "/")
        await world.sign_in(browser, entry)
        tokens = await _tokens(world)
        zhang = await member_of(world, "user001")
        context = world.context
        if how == "disabled":
            async with context.db.transaction() as session:
                await set_member_status(session, 10001, zhang, "disabled", actor="admin:root")
        elif how == "deleted":
            await delete_member(context, 10001, zhang, actor="admin:root")
        else:
            event = DirectoryEvent("evt-rp", "user_leave_org", DEMO_CORP_ID, ("user001",))
            assert await handle_event(context, 10001, event) == "left:1"
        # told already: no request of the member's came in between
        assert world.sample_app.state.ended.sids
        async with oauth_client(world, world.clients["示例应用"]) as rp:
            gone = await rp.introspect_token(
                f"{world.issuer()}/oidc/introspect", tokens["access_token"]
            )
        assert gone.json() == {"active": False}
        after = await browser.get(world.sample + "/")
        assert after.url.path == "/10001/"  # signed out of the app and of the space


async def member_of(world: OidcWorld, userid: str) -> int:
    async with world.context.db.session() as session:
        found = await session.scalar(
            select(Binding.member_id).where(Binding.space_id == 10001, Binding.userid == userid)
        )
    assert found is not None
    return int(found)
