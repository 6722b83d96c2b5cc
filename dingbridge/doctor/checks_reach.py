"""Check 2 (网络可达: DingTalk or the forward address answers) and check 8 (重定向URL/首页地址
可达: the space URL answers 200 without a redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from dingbridge.dingtalk import DingTalkError, TransportError, UnexpectedResponse
from dingbridge.dingtalk.transport import AiohttpTransport
from dingbridge.doctor.config import DoctorConfig
from dingbridge.doctor.probe import Probe, describe, unreachable_text
from dingbridge.doctor.results import CheckResult, Message, Status

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
        cause = Message(
            "The forwarder answers (HTTP %(status)s) but cannot reach DingTalk itself.",
            status=status,
        )
        fix = Message(
            "On the forwarding machine, check it can reach https://oapi.dingtalk.com and "
            "https://api.dingtalk.com (firewall, DNS, proxy); read the forwarder's log."
        )
    elif forwarded and status == 401 and exc.errcode is None and exc.code is None:
        cause = Message(
            "The forwarder requires a caller token (X-Dingbridge-Token); this server sent none "
            "or the wrong one."
        )
        fix = Message(
            "Set DINGBRIDGE_FORWARD_ADDRESS_TOKEN on this server to the token in the forwarder's "
            "--token-file, then restart this server."
        )
    elif forwarded and status == 403 and exc.errcode is None and exc.code is None:
        cause = Message(
            "The forwarder refused this server (its caller token or address allowlist)."
        )
        fix = Message(
            "Allow this server's address in the forwarder's settings, or give it the token."
        )
    else:
        where = config.forward_url if forwarded else f"{host} host"
        cause = Message(
            "%(where)s answers, but not like DingTalk (%(answer)s).",
            where=where,
            answer=describe(exc),
        )
        fix = Message(
            "Check the forward address points at a DingTalk forwarder (`dingbridge forward` or "
            "the vendor guide's nginx (port 888)): /api-dingtalk-com/ → https://api.dingtalk.com/, "
            "/oapi-dingtalk-com/ → https://oapi.dingtalk.com/."
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


def _redirect_advice(url: str, location: str) -> tuple[Message, Message]:
    here, there = urlsplit(url), urlsplit(location)
    if there.scheme == "https" and here.scheme == "http":
        cause = Message(
            "%(url)s redirects to https (%(location)s): the reverse proxy sends http to https.",
            url=url,
            location=location,
        )
        fix = Message(
            "Set the server's external URL (--external-url) to the https:// address and paste "
            "the https address into DingTalk."
        )
    elif there.path.rstrip("/") == here.path.rstrip("/"):
        cause = Message(
            "%(url)s redirects to %(location)s (only the trailing / differs).",
            url=url,
            location=location,
        )
        fix = Message("Paste the address exactly as the console shows it (with the trailing /).")
    else:
        cause = Message(
            "%(url)s redirects to %(location)s: DingTalk needs the home page and redirect URL "
            "to answer directly.",
            url=url,
            location=location,
        )
        fix = Message(
            "Check the server's external URL (--external-url) and that the reverse proxy "
            "does not redirect."
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
            Message(
                "This server's public address is unknown: set --external-url (or "
                "DINGBRIDGE_EXTERNAL_URL) to check it."
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
            cause=Message("The space URL %(url)s cannot be opened.", url=url),
            fix=Message(
                "Check the server's external URL (--external-url) and that its port is open: "
                "the DingTalk client and browsers must reach it. (This check runs on the server "
                "itself; behind a NAT without hairpin routing, open the URL on a phone instead.)"
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
        cause = Message(
            "%(url)s answers 404: the space does not exist or is disabled, or the external "
            "URL's path is wrong.",
            url=url,
        )
    else:
        cause = Message("%(url)s answers HTTP %(status)s.", url=url, status=status)
    fix = Message(
        "Check the space is enabled, the external URL (--external-url) points at this server, "
        "and the reverse proxy passes requests through unchanged."
    )
    return CheckResult(
        "home_url", Status.FAIL, cause=cause, fix=fix, detail=f"GET {url} → {status}"
    )
