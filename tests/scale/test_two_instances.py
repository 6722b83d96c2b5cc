"""Two ``dingbridge serve`` processes on one PostgreSQL (a fresh schema) and one Redis (a fresh
key prefix), nginx in front, the simulator as DingTalk (QPS limit 20, as DingTalk's):

- a user starts binding on A and finishes on B, is recognised on B, signs out on B and is
  signed out on A;
- an OpenID Connect code issued by A is redeemed at B; the refresh token works at A; revoked
  at B, the access token is dead at A;
- 200 sign-ins at once across both, right after the app token expired: one token request in
  the simulator's log, and every sign-in succeeds (no 90018 reaches a user).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import create_engine, text

from dingbridge.kv import create_kv
from dingbridge.signin.space_cache import version_key
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
from dingbridge.storage.db import Database, sync_url
from dingbridge.storage.models import SpaceApp
from tests.scale.cluster import USERS, Cluster, running_cluster

pytestmark = pytest.mark.skipif(
    not os.path.exists("/usr/sbin/nginx"), reason="nginx is not installed (scripts/test does)"
)

BOUND = USERS[1:]  # user001 binds through the pages; the others are bound already
REDIRECT_URI = "http://127.0.0.1:9/callback"
TOKEN_KEY = f"dt-token:dingtalk:app_token:{FULL_APP.app_key}"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    url = os.environ.get("DINGBRIDGE_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("DINGBRIDGE_TEST_POSTGRES_URL is not set")
    schema = f"scale_{secrets.token_hex(4)}"
    admin = create_engine(sync_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[str, str]]:
    url = os.environ.get("DINGBRIDGE_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("DINGBRIDGE_TEST_REDIS_URL is not set")
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    yield url, prefix
    client = aioredis.Redis.from_url(url)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def cluster(tmp_path: Path, pg_schema_url: str, redis_prefix: tuple[str, str]) -> Iterator[Cluster]:
    url, prefix = redis_prefix
    with running_cluster(
        tmp_path / "cluster",
        instances=2,
        database_url=pg_schema_url,
        kv_url=f"{url}?prefix={prefix}",
        bound=BOUND,
        # 200 sign-ins at 20 a second take 10 s: the test's users are patient
        extra_env={"DINGBRIDGE_DINGTALK_MAX_WAIT": "20"},
    ) as running:
        yield running


def _form_token(page: httpx.Response) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def _authcode(http: httpx.AsyncClient, cluster: Cluster, userid: str) -> str:
    body = {"corp_id": DEMO_CORP_ID, "userid": userid}
    code: str = (await http.post(f"{cluster.sim}/_sim/authcode", json=body)).json()["code"]
    return code


async def _sign_in(browser: httpx.AsyncClient, base: str, code: str) -> httpx.Response:
    """The entry page's script inside DingTalk: the code posted, then the ticket URL."""
    answer = await browser.post(f"{base}/10001/signin/code", json={"code": code, "next": "/10001/"})
    assert answer.status_code == 200, answer.text
    return await browser.get(f"{base}{answer.json()['next']}", follow_redirects=True)


async def _sms_code(cluster: Cluster, mobile: str) -> str:
    """The code of the development outbox of whichever instance sent it."""
    async with httpx.AsyncClient() as http:
        for base in cluster.direct:
            for message in (await http.get(f"{base}/_dev/outbox.json")).json():  # newest first
                found = re.search(r"验证码为 (\d+)", str(message["text"]))
                if message["mobile"] in (mobile, mobile.removeprefix("+86")) and found:
                    return found.group(1)
        seen = [(await http.get(f"{base}/_dev/outbox.json")).json() for base in cluster.direct]
    raise AssertionError(f"no code was sent to {mobile}: {seen}")


async def _register_oidc_app(cluster: Cluster) -> tuple[str, str]:
    """Written to the database as a console on a third instance would, which then bumps the
    space's version in the shared KV: both instances see the app on their next request."""
    client_id, secret = new_client_id(), new_client_secret()
    db = Database(cluster.settings.effective_database_url)
    try:
        async with db.transaction() as session:
            session.add(
                SpaceApp(
                    space_id=10001,
                    title="示例应用",
                    url="http://127.0.0.1:9/",
                    kind="oidc",
                    access="all",
                    client_id=client_id,
                    client_secret_hash=hash_client_secret(secret),
                    public_client=False,
                    redirect_uris=[REDIRECT_URI],
                    post_logout_redirect_uris=[],
                )
            )
    finally:
        await db.dispose()
    kv = create_kv(cluster.settings.kv_url)
    try:
        await kv.incr(version_key(10001))
    finally:
        await kv.close()
    return client_id, secret


async def test_a_user_moves_between_instances_and_oidc_state_is_shared(cluster: Cluster) -> None:
    a, b = cluster.via
    mobile = "+8613800000001"  # user001's
    async with httpx.AsyncClient() as http, httpx.AsyncClient() as browser:
        # binding: starts on A (DingTalk identifies the user, the code is sent) ...
        bind_page = await _sign_in(browser, a, await _authcode(http, cluster, "user001"))
        assert bind_page.url.path == "/10001/bind", bind_page.url
        sent = await browser.post(
            f"{a}/10001/bind/send", data={"token": _form_token(bind_page), "mobile": mobile}
        )
        assert sent.status_code == 200, sent.text[:500]
        code = await _sms_code(cluster, mobile)
        # ... and finishes on B
        home = await browser.post(
            f"{b}/10001/bind/verify",
            data={"token": _form_token(sent), "code": code},
            follow_redirects=True,
        )
        assert 'id="space-home"' in home.text

        # signed in on B: recognised on A
        on_a = await browser.get(f"{a}/10001/")
        assert 'id="space-home"' in on_a.text and "张伟" in on_a.text

        # signs out on B: signed out on A
        out = await browser.post(
            f"{b}/10001/logout", data={"token": _form_token(home)}, follow_redirects=True
        )
        assert 'id="signed-out"' in out.text
        assert 'id="space-home"' not in (await browser.get(f"{a}/10001/")).text

        # OpenID Connect: a code issued by A is redeemed at B
        client_id, secret = await _register_oidc_app(cluster)
        signed_in = await _sign_in(browser, a, await _authcode(http, cluster, "user001"))
        assert 'id="space-home"' in signed_in.text
        auth = (client_id, secret)

        async def code_from(base: str) -> str:
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "scope": "openid profile",
                    "state": "s-1",
                    "nonce": "n-1",
                }
            )
            issued = await browser.get(f"{base}/10001/oidc/authorize?{query}")
            assert issued.status_code in (302, 303), issued.text[-1500:]
            return parse_qs(urlsplit(issued.headers["location"]).query)["code"][0]

        async def redeem(base: str, code: str) -> httpx.Response:
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
            return await http.post(f"{base}/10001/oidc/token", data=form, auth=auth)

        async def active(base: str, token: str) -> bool:
            answer = await http.post(
                f"{base}/10001/oidc/introspect", data={"token": token}, auth=auth
            )
            return bool(answer.json()["active"])

        redeemed = await redeem(b, await code_from(a))
        assert redeemed.status_code == 200, redeemed.text
        tokens = redeemed.json()
        assert {"access_token", "id_token", "refresh_token"} <= set(tokens)

        # the refresh token issued at B works at A (and rotates: the old one is spent)
        refreshed = await http.post(
            f"{a}/10001/oidc/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=auth,
        )
        assert refreshed.status_code == 200, refreshed.text
        fresh = refreshed.json()
        # both instances publish the same keys, and the ID token's key is among them
        jwks = [(await http.get(f"{base}/10001/oidc/jwks")).json() for base in (a, b)]
        assert jwks[0] == jwks[1]
        kid = json.loads(_b64(tokens["id_token"].split(".")[0]))["kid"]
        assert kid in {key["kid"] for key in jwks[0]["keys"]}

        # revoked at B: dead at A
        assert await active(a, fresh["access_token"])
        revoked = await http.post(
            f"{b}/10001/oidc/revoke", data={"token": fresh["refresh_token"]}, auth=auth
        )
        assert revoked.status_code == 200
        assert not await active(a, fresh["access_token"])
        userinfo = await http.get(
            f"{a}/10001/oidc/userinfo",
            headers={"Authorization": f"Bearer {fresh['access_token']}"},
        )
        assert userinfo.status_code == 401

        # a code replayed at the other instance is refused, and what it gave is revoked there
        code = await code_from(b)
        first = await redeem(a, code)
        assert first.status_code == 200
        assert await active(b, first.json()["access_token"])
        replayed = await redeem(b, code)
        assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
        assert not await active(a, first.json()["access_token"])


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


async def test_200_sign_ins_after_the_token_expired_fetch_it_once_within_the_qps(
    cluster: Cluster, redis_prefix: tuple[str, str]
) -> None:
    url, prefix = redis_prefix
    async with httpx.AsyncClient(timeout=60) as http:
        # a first sign-in fetches the app token; then it expires (DingTalk's clock, our cache)
        warm = await _sign_in(http, cluster.balanced, await _authcode(http, cluster, "user002"))
        assert 'id="space-home"' in warm.text
        assert (await http.get(f"{cluster.sim}/_sim/settings")).json()["qps_limit"] == 20
        await http.post(f"{cluster.sim}/_sim/clock", json={"advance": 7201})
        redis = aioredis.Redis.from_url(url)
        try:
            assert await redis.delete(prefix + TOKEN_KEY) == 1
        finally:
            await redis.aclose()
        codes = [await _authcode(http, cluster, BOUND[n % len(BOUND)]) for n in range(200)]
        await http.delete(f"{cluster.sim}/_sim/requests")

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as load:

        async def one(code: str) -> tuple[int, str]:
            answer = await load.post(
                f"{cluster.balanced}/10001/signin/code", json={"code": code, "next": "/10001/"}
            )
            return answer.status_code, answer.text

        results = await asyncio.wait_for(
            asyncio.gather(*(one(code) for code in codes)), timeout=120
        )
    failures = [text for status, text in results if status != 200]
    assert failures == [], failures[:3]

    async with httpx.AsyncClient() as http:
        log = (await http.get(f"{cluster.sim}/_sim/requests")).json()
    entries = log["requests"]
    token_requests = [e for e in entries if e["path"] in ("/v1.0/oauth2/accessToken", "/gettoken")]
    assert len(token_requests) == 1
    signins = [e for e in entries if e["path"] == "/topapi/v2/user/getuserinfo"]
    assert sum(1 for e in signins if e["outcome"] == "ok") == 200
    # both instances served sign-ins (nginx balanced them), each paced by the shared budget
    async with httpx.AsyncClient() as http:
        served = [
            _metric(
                (await http.get(f"{base}/metrics")).text,
                'dingbridge_signins_total{flow="in_client",result="ok"}',
            )
            for base in cluster.direct
        ]
    assert all(count > 0 for count in served) and sum(served) >= 200


def _metric(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
