"""Access log lines (secrets redacted), /healthz, /metrics and --source-address."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dingbridge.forwarder.access_log import ACCESS_LOGGER
from tests.forwarder.conftest import StartForwarder, raw_request
from tests.forwarder.fake_upstream import unused_port

SECRETS = {
    "appsecret": "AS-7f3a9c",
    "access_token": "AT-1b2c3d",
    "code": "CODE-998877",
    "authCode": "AUTHC-556677",
    "tmp_auth_code": "TMP-112233",
    "corpsecret": "CS-445566",
    "jsapi_ticket": "TICKET-7788",
    "signature": "SIG-99aa",
    "password": "PW-hunter2",
}


async def test_access_log_has_one_line_per_call_without_secrets(
    start_forwarder: StartForwarder, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_forwarder()
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    await running.get(
        f"/oapi-dingtalk-com/gettoken?appkey=dingpublic&{query}",
        headers="X-Acs-Dingtalk-Access-Token: HDR-TOKEN-42\r\nAuthorization: Bearer BEAR-1\r\n",
    )
    await running.get(f"/api-dingtalk-com/v1.0/oauth2/userAccessToken?{query}")
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 2
    first = lines[0]
    assert '"GET /oapi-dingtalk-com/gettoken?appkey=dingpublic&appsecret=***' in first
    assert "route=oapi" in first and "status=200" in first
    assert "duration_ms=" in first and "bytes_in=0" in first and "bytes_out=" in first
    assert "route=api" in lines[1]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for value in [*SECRETS.values(), "HDR-TOKEN-42", "BEAR-1"]:
        assert value not in everything


async def test_access_log_file_and_error_lines(
    start_forwarder: StartForwarder, tmp_path: Path
) -> None:
    log_file = tmp_path / "access.log"
    dead = unused_port()
    running = await start_forwarder(access_log=str(log_file), api=f"http://127.0.0.1:{dead}")
    await running.get("/api-dingtalk-com/v1.0/x?access_token=AT-SECRET")
    await running.get("/../x?code=C-SECRET")
    running.forwarder.access_log.flush()
    text = log_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 2
    assert "status=502" in lines[0] and "error=connection_refused" in lines[0]
    assert "status=400" in lines[1] and "error=bad_path" in lines[1]
    assert "AT-SECRET" not in text and "C-SECRET" not in text


async def test_metrics_count_requests_and_are_never_forwarded(
    start_forwarder: StartForwarder,
) -> None:
    running = await start_forwarder()
    for _ in range(3):
        await running.get("/oapi-dingtalk-com/gettoken")
    await running.get("/api-dingtalk-com/v1.0/x")
    await running.get("/../x")
    reply = await running.get("/metrics")
    assert reply.status == 200
    assert (reply.header("Content-Type") or "").startswith("text/plain; version=0.0.4")
    text = reply.body.decode()
    assert 'dingbridge_forward_requests_total{route="oapi",status="200"} 3' in text
    assert 'dingbridge_forward_requests_total{route="api",status="200"} 1' in text
    assert 'dingbridge_forward_requests_total{route="-",status="400"} 1' in text
    assert 'dingbridge_forward_upstream_seconds_count{upstream="oapi"} 3' in text
    assert 'dingbridge_forward_upstream_connections{upstream="oapi",state="idle"} 1' in text
    assert "dingbridge_forward_client_connections 1" in text
    for path in ("/metrics", "/healthz"):
        assert all(r.target != path for r in running.oapi.requests)


async def test_healthz_reports_upstream_reachability(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    reply = await running.get("/healthz")
    assert reply.status == 200
    body = reply.json()
    assert body["status"] == "ok"
    assert body["upstreams"]["oapi"]["reachable"] is True
    assert body["upstreams"]["api"]["reachable"] is True
    assert running.oapi.requests == []  # a TCP+TLS connect only, no request

    dead = unused_port()
    down = await start_forwarder(api=f"https://127.0.0.1:{dead}")
    reply = await down.get("/healthz")
    assert reply.status == 503
    assert reply.json()["upstreams"]["api"] == {
        **reply.json()["upstreams"]["api"],
        "reachable": False,
        "error": "connection_refused",
    }


async def test_reserved_paths_refuse_other_methods(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    reply = await raw_request(
        running.port, b"POST /healthz HTTP/1.1\r\nHost: f\r\nContent-Length: 0\r\n\r\n"
    )
    assert reply.status == 405


async def test_source_address_is_the_peer_seen_upstream(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(source_address="127.0.0.2")
    await running.get("/gettoken")
    await running.get("/api-dingtalk-com/v1.0/x")
    assert running.oapi.requests[0].peer == "127.0.0.2"
    assert running.api.requests[0].peer == "127.0.0.2"
    plain = await start_forwarder()
    await plain.get("/gettoken")
    assert plain.oapi.requests[0].peer == "127.0.0.1"


def test_metrics_render_is_valid_prometheus_text() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from dingbridge.forwarder.metrics import ForwarderMetrics

    metrics = ForwarderMetrics()
    metrics.count_request("oapi", 200)
    metrics.observe_upstream_latency("oapi", 0.02)
    metrics.count_upstream_error("api", "read_timeout")
    metrics.pool_gauges["oapi"] = lambda: (2, 3)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    assert families["dingbridge_forward_upstream_seconds"].type == "histogram"
    samples = families["dingbridge_forward_requests"].samples
    assert [(s.labels, s.value) for s in samples] == [({"route": "oapi", "status": "200"}, 1)]
