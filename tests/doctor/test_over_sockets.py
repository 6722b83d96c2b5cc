"""The doctor over real sockets: the simulator served by uvicorn, a real ``dingbridge forward``
in front of it (outgoing source address 127.0.0.2, the whitelisted machine), closed ports and
a hanging DingTalk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dingbridge.dingtalk import AiohttpTransport
from dingbridge.doctor import CHECK_ORDER, Status, run_checks
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from dingbridge.sim.faults import parse_fault
from tests.conftest import SimServer
from tests.doctor.conftest import StartForwarder, by_id, closed_port, config_for


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    transport = AiohttpTransport(connect_timeout=2)
    yield transport
    await transport.aclose()


async def test_full_app_direct(sim_server: SimServer, transport: AiohttpTransport) -> None:
    results = await run_checks(config_for(FULL_APP, transport, base=sim_server.url))
    assert all(r.status in (Status.PASS, Status.SKIP) for r in results)
    assert by_id(results)["home_url"].status is Status.SKIP


async def test_whitelist_app_direct_names_this_machine(
    sim_server: SimServer, transport: AiohttpTransport
) -> None:
    ip = by_id(await run_checks(config_for(WHITELIST_APP, transport, base=sim_server.url)))[
        "ip_whitelist"
    ]
    assert ip.status is Status.FAIL
    assert ip.data["egress_ip"] == "127.0.0.1"
    assert ip.cause is not None and "IP 127.0.0.1" in ip.cause.en


async def test_whitelist_app_through_a_forwarder_on_the_whitelisted_address(
    sim_server: SimServer, transport: AiohttpTransport, start_forwarder: StartForwarder
) -> None:
    forwarder = await start_forwarder(sim_server.url, source_address="127.0.0.2")
    forward_url = f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/"
    config = config_for(
        WHITELIST_APP,
        transport,
        base="https://dingtalk.invalid",  # never used: every call goes to the forwarder
        forward_url=forward_url,
    )
    results = await run_checks(config)
    assert {r.id: r.status for r in results} == {
        check_id: Status.SKIP if check_id == "home_url" else Status.PASS for check_id in CHECK_ORDER
    }
    peers = {e.peer for e in sim_server.state.request_log if e.app_key == WHITELIST_APP.app_key}
    assert peers == {"127.0.0.2"}


async def test_forwarder_not_on_the_whitelisted_address_names_its_ip(
    sim_server: SimServer, transport: AiohttpTransport, start_forwarder: StartForwarder
) -> None:
    forwarder = await start_forwarder(sim_server.url)
    config = config_for(
        WHITELIST_APP,
        transport,
        forward_url=f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/",
    )
    ip = by_id(await run_checks(config))["ip_whitelist"]
    assert ip.status is Status.FAIL
    assert ip.cause is not None and "the forwarder's egress IP" in ip.cause.en
    assert "127.0.0.1" in ip.cause.en


async def test_forward_address_unreachable(transport: AiohttpTransport) -> None:
    port = closed_port()
    config = config_for(
        FULL_APP, transport, forward_url=f"http://127.0.0.1:{port}/api-dingtalk-com/"
    )
    results = by_id(await run_checks(config))
    network = results["network"]
    assert network.status is Status.FAIL
    assert network.cause is not None and network.fix is not None
    assert f"127.0.0.1:{port}" in network.cause.en
    assert "connection refused" in network.cause.en
    assert "Is `dingbridge forward`" in network.fix.en and "port 888" in network.fix.en
    assert "888 端口" in network.fix.zh
    assert results["credentials"].status is Status.SKIP


async def test_dingtalk_unreachable_direct(transport: AiohttpTransport) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    network = by_id(await run_checks(config_for(FULL_APP, transport, base=base)))["network"]
    assert network.status is Status.FAIL
    assert network.cause is not None and network.fix is not None
    assert "DingTalk unreachable" in network.cause.en
    assert "forwarder" in network.fix.en and "钉钉API转发地址" in network.fix.zh


async def test_dingtalk_hanging(sim_server: SimServer, transport: AiohttpTransport) -> None:
    sim_server.state.faults.add(parse_fault({"path": "*", "kind": "hang"}))
    config = config_for(FULL_APP, transport, base=sim_server.url, timeout=0.5)
    network = by_id(await run_checks(config))["network"]
    assert network.status is Status.FAIL
    assert network.cause is not None
    assert "DingTalk unreachable or timing out" in network.cause.en


async def test_forwarder_that_cannot_reach_dingtalk(
    transport: AiohttpTransport, start_forwarder: StartForwarder
) -> None:
    forwarder = await start_forwarder(f"http://127.0.0.1:{closed_port()}")
    config = config_for(
        FULL_APP, transport, forward_url=f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/"
    )
    network = by_id(await run_checks(config))["network"]
    assert network.status is Status.FAIL
    assert network.cause is not None and network.fix is not None
    assert "cannot reach DingTalk itself" in network.cause.en
    assert "forwarding machine" in network.fix.en


async def test_token_protected_forwarder_needs_the_servers_forward_token(
    sim_server: SimServer,
    transport: AiohttpTransport,
    start_forwarder: StartForwarder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    forwarder = await start_forwarder(
        sim_server.url, source_address="127.0.0.2", token="fwd-token-s3cret-value"
    )
    forward_url = f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/"

    without = by_id(await run_checks(config_for(WHITELIST_APP, transport, forward_url=forward_url)))
    reach = without["network"]
    assert reach.status is Status.FAIL
    assert reach.fix is not None and "DINGBRIDGE_FORWARD_ADDRESS_TOKEN" in reach.fix.en

    caplog.set_level("DEBUG")
    config = config_for(
        WHITELIST_APP, transport, forward_url=forward_url, forward_token="fwd-token-s3cret-value"
    )
    results = await run_checks(config)
    assert all(r.status in (Status.PASS, Status.SKIP) for r in results), [
        (r.id, r.status) for r in results
    ]
    assert "fwd-token-s3cret-value" not in caplog.text
