"""authlib's own Starlette OAuth client (the sample app) as a relying party over real sockets:
discovery, code + PKCE, the ID token verified against the JWKS, userinfo, refresh, revocation,
RP-initiated and back-channel logout, and a public client."""

from __future__ import annotations

from tests.oidc.oidc_world import OidcWorld


async def test_the_sample_app_signs_in_through_the_space(oidc_world: OidcWorld) -> None:
    world = oidc_world
    async with world.browser() as browser:
        entry = await browser.get(world.sample + "/")
        assert entry.url.path == "/10001/"  # sent through the space's sign-in
        app_page = await world.sign_in(browser, entry)
        assert str(app_page.url) == world.sample + "/", app_page.text[-800:]
        assert "张伟" in app_page.text
        assert 'data-claim="dingtalk"' in app_page.text
        assert "user001" in app_page.text
