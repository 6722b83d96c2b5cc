"""OpenID Connect Back-Channel Logout 1.0: when a member's session ends (sign-out) or all of
them (disabled, unbound, ended by an admin), their app tokens are revoked and each app that
registered a ``backchannel_logout_uri`` gets a logout token (signed with the space's key,
``sub`` and ``sid``, the back-channel event, no nonce)."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from joserfc import jwt

from dingbridge.oidc.logout_client import LogoutClient
from dingbridge.oidc.signing_keys import SigningKeys
from dingbridge.oidc.subjects import load_subject
from dingbridge.oidc.tokens import Issued
from dingbridge.signin.space_cache import SpaceView
from dingbridge.storage.db import Database

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120


async def logout_token(keys: SigningKeys, issued: Issued, client_id: str, sub: str) -> str:
    space_keys = await keys.for_space(issued.space_id)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issued.issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": sub,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    if issued.sid:
        claims["sid"] = issued.sid
    header = {"alg": space_keys.alg, "kid": space_keys.kid, "typ": "logout+jwt"}
    return jwt.encode(header, claims, space_keys.signing, [space_keys.alg])


async def send_logouts(
    db: Database,
    keys: SigningKeys,
    client: LogoutClient,
    space: SpaceView,
    issued: list[Issued],
) -> int:
    """Send one logout token per app and session in ``issued``; how many apps said 2xx."""
    if not issued:
        return 0
    subject = await load_subject(db, space.id, issued[0].member_id)
    if subject is None:
        return 0
    sends = []
    for entry in issued:
        app = space.app(entry.app_id)
        if app is None or not app.backchannel_logout_uri or not app.client_id:
            continue
        token = await logout_token(keys, entry, app.client_id, subject.sub)
        sends.append(client.post(app.backchannel_logout_uri, token))
    results = await asyncio.gather(*sends)
    return sum(1 for ok in results if ok)
