"""Through a forward address, api calls use /api-dingtalk-com/ and oapi calls /oapi-dingtalk-com/.

A stand-in forwarder (strip the prefix, pass to the simulator) records which prefix each
DingTalk path arrived on.
"""

from __future__ import annotations

from typing import Any

import pytest

from dingbridge.dingtalk import ASGITransport, DingTalkClient, Endpoints, RetryPolicy
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP


class PrefixForwarder:
    def __init__(self, upstream: Any) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        prefix, _, rest = scope["path"].lstrip("/").partition("/")
        assert prefix in ("api-dingtalk-com", "oapi-dingtalk-com"), scope["path"]
        self.seen.append((prefix, "/" + rest))
        inner = dict(scope, path="/" + rest, raw_path=("/" + rest).encode())
        await self.upstream(inner, receive, send)


@pytest.mark.parametrize(
    "address",
    [
        "http://10.1.2.3:888/api-dingtalk-com/",
        "http://10.1.2.3:888/oapi-dingtalk-com/",
        "http://10.1.2.3:888/",
    ],
)
async def test_calls_take_the_right_prefix(sim_app: Any, sim_state: Any, address: str) -> None:
    forwarder = PrefixForwarder(sim_app)
    client = DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=FULL_APP.app_secret,
        corp_id=DEMO_CORP_ID,
        agent_id=FULL_APP.agent_id,
        endpoints=Endpoints.from_forward_address(address),
        transport=ASGITransport(forwarder),
        retry=RetryPolicy(backoff=0.0),
    )
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    info = await client.users.getuserinfo(code)
    assert (await client.users.get(info.userid)).name == "张伟"
    await client.jsapi.ticket()
    assert forwarder.seen == [
        ("api-dingtalk-com", "/v1.0/oauth2/accessToken"),
        ("oapi-dingtalk-com", "/topapi/v2/user/getuserinfo"),
        ("oapi-dingtalk-com", "/topapi/v2/user/get"),
        ("api-dingtalk-com", "/v1.0/oauth2/jsapiTickets"),
    ]
