"""Check 2 (网络可达: DingTalk or the forward address answers) and check 8 (重定向URL/首页地址
可达: the space URL answers 200 without a redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from dingbridge.dingtalk import DingTalkError, TransportError, UnexpectedResponse
from dingbridge.dingtalk.transport import AiohttpTransport
from dingbridge.doctor.config import DoctorConfig
from dingbridge.doctor.probe import Probe, describe, unreachable_text
from dingbridge.doctor.results import CheckResult, Status, Text

__all__ = ["check_home_url", "check_network"]


async def _touch(probe: Probe, host: str) -> None:
    """One credential-free call; any DingTalk-shaped answer (even an error) proves the way."""
    caller = probe.client.caller
    if host == "oapi":
        await caller.oapi("GET", "/gettoken", app_token=False)  # → 40035 missing parameters
    else:
        await caller.api("POST", "/v1.0/oauth2/accessToken", json_body={}, token=None)


def _not_dingtalk(config: DoctorConfig, host: str, exc: DingTalkError) -> CheckResult:
    status = exc.status
    forwarded = config.forwarded
    if forwarded and status in (502, 503, 504):
        cause = Text(
            f"转发服务有应答（HTTP {status}），但它连不上钉钉。",
            f"The forwarder answers (HTTP {status}) but cannot reach DingTalk itself.",
        )
        fix = Text(
            "在转发服务器上检查它能否访问 https://oapi.dingtalk.com 和 https://api.dingtalk.com"
            "（防火墙、DNS、代理），查看转发服务的日志。",
            "On the forwarding machine, check it can reach https://oapi.dingtalk.com and "
            "https://api.dingtalk.com (firewall, DNS, proxy); read the forwarder's log.",
        )
    elif forwarded and status == 401 and exc.errcode is None and exc.code is None:
        cause = Text(
            "转发服务要求调用方令牌（X-Dingbridge-Token），本服务器没有发送或令牌不对。",
            "The forwarder requires a caller token (X-Dingbridge-Token); this server sent none "
            "or the wrong one.",
        )
        fix = Text(
            "在本服务器上设置环境变量 DINGBRIDGE_FORWARD_ADDRESS_TOKEN 为转发服务 "
            "--token-file 中的令牌，然后重启本服务器。",
            "Set DINGBRIDGE_FORWARD_ADDRESS_TOKEN on this server to the token in the forwarder's "
            "--token-file, then restart this server.",
        )
    elif forwarded and status == 403 and exc.errcode is None and exc.code is None:
        cause = Text(
            "转发服务拒绝了本服务器的请求（调用方令牌或 IP 白名单）。",
            "The forwarder refused this server (its caller token or address allowlist).",
        )
        fix = Text(
            "在转发服务的设置中允许本服务器的地址，或配置相同的调用方令牌。",
            "Allow this server's address in the forwarder's settings, or give it the token.",
        )
    else:
        where = config.forward_url if forwarded else f"{host} host"
        cause = Text(
            f"{where} 有应答，但不是钉钉接口的应答（{describe(exc)}）。",
            f"{where} answers, but not like DingTalk ({describe(exc)}).",
        )
        fix = Text(
            "检查 钉钉API转发地址 指向的是钉钉转发服务"
            "（dingbridge forward 或厂商指南中的 nginx，端口 888），"
            "/api-dingtalk-com/ 转发到 https://api.dingtalk.com/，/oapi-dingtalk-com/ 转发到 "
            "https://oapi.dingtalk.com/。",
            "Check the forward address points at a DingTalk forwarder (`dingbridge forward` or "
            "the vendor guide's nginx (port 888)): /api-dingtalk-com/ → https://api.dingtalk.com/, "
            "/oapi-dingtalk-com/ → https://oapi.dingtalk.com/.",
        )
    return CheckResult("network", Status.FAIL, cause=cause, fix=fix, detail=describe(exc))


async def check_network(probe: Probe) -> CheckResult:
    """Check 2: the API hosts the space uses answer like DingTalk (through the forward address
    if set): oapi for both versions, api for V2 (tokens and browser sign-in)."""
    config = probe.config
    hosts = ("oapi", "api") if probe.client.api_version == "v2" else ("oapi",)
    for host in hosts:
        try:
            await _touch(probe, host)
        except TransportError as exc:
            cause, fix = unreachable_text(config, exc)
            return CheckResult("network", Status.FAIL, cause=cause, fix=fix, detail=describe(exc))
        except UnexpectedResponse as exc:
            return _not_dingtalk(config, host, exc)
        except DingTalkError as exc:
            if exc.status is not None and exc.status >= 500 and not (exc.errcode or exc.code):
                return _not_dingtalk(config, host, exc)
            if exc.status in (401, 403) and exc.errcode is None and exc.code is None:
                return _not_dingtalk(config, host, exc)  # refused by the forwarder, not DingTalk
            if exc.effective_code in ("404", "22", "InvalidAction.NotFound"):
                return _not_dingtalk(config, host, exc)
            continue  # DingTalk answered (an error about the missing credentials): reachable
    endpoints = probe.client.endpoints
    used = {"api": endpoints.api, "oapi": endpoints.oapi}
    return CheckResult.passed("network", detail=" ".join(f"{h}={used[h]}" for h in hosts))


_REDIRECTS = (301, 302, 303, 307, 308)


def _redirect_advice(url: str, location: str) -> tuple[Text, Text]:
    here, there = urlsplit(url), urlsplit(location)
    if there.scheme == "https" and here.scheme == "http":
        cause = Text(
            f"{url} 被重定向到 https（{location}）：反向代理把 http 跳转到了 https。",
            f"{url} redirects to https ({location}): the reverse proxy sends http to https.",
        )
        fix = Text(
            "把服务器的外网地址（--external-url）改成 https:// 开头，"
            "并在钉钉开发者后台填写 https 地址。",
            "Set the server's external URL (--external-url) to the https:// address and paste "
            "the https address into DingTalk.",
        )
    elif there.path.rstrip("/") == here.path.rstrip("/"):
        cause = Text(
            f"{url} 被重定向到 {location}（只差末尾的 /）。",
            f"{url} redirects to {location} (only the trailing / differs).",
        )
        fix = Text(
            "在钉钉开发者后台填写控制台显示的地址原样（包括末尾的 /）。",
            "Paste the address exactly as the console shows it (with the trailing /).",
        )
    else:
        cause = Text(
            f"{url} 被重定向到 {location}：钉钉要求首页地址和重定向URL直接应答。",
            f"{url} redirects to {location}: DingTalk needs the home page and redirect URL to "
            "answer directly.",
        )
        fix = Text(
            "检查服务器的外网地址（--external-url）是否正确，以及反向代理是否做了跳转。",
            "Check the server's external URL (--external-url) and that the reverse proxy "
            "does not redirect.",
        )
    return cause, fix


def in_client_origin(url: str) -> str:
    """DingTalk's 端内免登地址 for a page: its origin (``scheme://host[:port]``), the address
    DingTalk checks before ``requestAuthCode`` answers inside the client."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def check_home_url(config: DoctorConfig) -> CheckResult:
    """Check 8: GET the space URL; it must answer 200 itself."""
    url = config.space_url
    if not url:
        return CheckResult.skipped(
            "home_url",
            Text(
                "不知道本服务器的外网地址：用 --external-url"
                "（或 DINGBRIDGE_EXTERNAL_URL）设置后再检查。",
                "This server's public address is unknown: set --external-url (or "
                "DINGBRIDGE_EXTERNAL_URL) to check it.",
            ),
        )
    transport = config.site_transport  # never the DingTalk transport: it may be a simulator
    own = transport is None
    used = transport or AiohttpTransport(connect_timeout=config.timeout)
    try:
        response = await used.request(
            "GET", url, headers={"Accept": "text/html"}, body=None, timeout=config.timeout
        )
    except TransportError as exc:
        return CheckResult(
            "home_url",
            Status.FAIL,
            cause=Text(
                f"无法打开空间地址 {url}：{exc}。",
                f"The space URL {url} cannot be opened: {exc}.",
            ),
            fix=Text(
                "检查服务器的外网地址（--external-url）是否写对、端口是否开放；钉钉客户端和浏览器都要能打开它。"
                "（此项从服务器本机访问；若 NAT 不支持回环访问，请改用手机打开该地址确认。）",
                "Check the server's external URL (--external-url) and that its port is open: "
                "the DingTalk client and browsers must reach it. (This check runs on the server "
                "itself; behind a NAT without hairpin routing, open the URL on a phone instead.)",
            ),
            detail=describe(exc),
        )
    finally:
        if own:
            await used.aclose()
    status = response.status
    if status == 200:
        origin = in_client_origin(url)
        return CheckResult.passed(
            "home_url",
            detail=f"GET {url} → 200; 安全设置 → 端内免登地址: {origin}",
            url=url,
            in_client_origin=origin,
        )
    if status in _REDIRECTS:
        location = dict((k.lower(), v) for k, v in response.headers.items()).get("location", "")
        cause, fix = _redirect_advice(url, location)
        return CheckResult(
            "home_url", Status.FAIL, cause=cause, fix=fix, detail=f"GET {url} → {status}"
        )
    if status == 404:
        cause = Text(
            f"{url} 应答 404：空间不存在或已停用，或外网地址的路径不对。",
            f"{url} answers 404: the space does not exist or is disabled, or the external "
            "URL's path is wrong.",
        )
    else:
        cause = Text(f"{url} 应答 HTTP {status}。", f"{url} answers HTTP {status}.")
    fix = Text(
        "确认空间已启用、外网地址（--external-url）指向本服务器，反向代理把请求原样转给本服务器。",
        "Check the space is enabled, the external URL (--external-url) points at this server, "
        "and the reverse proxy passes requests through unchanged.",
    )
    return CheckResult(
        "home_url", Status.FAIL, cause=cause, fix=fix, detail=f"GET {url} → {status}"
    )
