"""A member the app's access rules leave out gets a clear page saying so and whom to ask;
the app receives nothing."""

from __future__ import annotations

import httpx

from tests.oidc.oidc_world import OidcWorld


async def test_a_member_outside_the_app_is_refused_with_a_clear_page(
    oidc_world: OidcWorld,
) -> None:
    world = oidc_world
    hr = await world.add_app("人事系统", redirect_uri="http://127.0.0.1:9/hr/cb", access="members")
    url = httpx.URL(
        f"{world.issuer()}/oidc/authorize",
        params={
            "response_type": "code",
            "client_id": hr.client_id,
            "redirect_uri": hr.redirect_uri,
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    async with world.browser() as browser:
        entry = await browser.get(url)
        refused = await world.sign_in(browser, entry)
        assert refused.status_code == 403
        assert "人事系统" in refused.text and "张伟" in refused.text
        assert "示例空间" in refused.text  # whom to ask: the space's administrator
        assert all("127.0.0.1:9" not in str(r.headers.get("location")) for r in refused.history)
        browser.cookies.set("dingbridge_lang", "en")
        english = await browser.get(url)
        assert "You may not use this app" in english.text
