"""The state one doctor run shares between checks: the client built from the settings, the
app token once fetched, and what earlier calls answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dingbridge.dingtalk import (
    DingTalkClient,
    DingTalkError,
    MemoryTokenStore,
    RetryPolicy,
    TransportError,
)
from dingbridge.dingtalk.transport import AiohttpTransport
from dingbridge.doctor.config import DoctorConfig, endpoints_for
from dingbridge.doctor.results import Message

__all__ = ["Probe", "describe", "unreachable_text"]


def describe(exc: BaseException) -> str:
    """A one-line technical description (DingTalk's code and message; never a secret)."""
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Probe:
    config: DoctorConfig
    client: DingTalkClient
    owns_transport: bool = False
    token: str | None = None
    token_error: DingTalkError | None = None
    egress_ip: str | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, config: DoctorConfig) -> Probe:
        """A client that fetches its own token (never a cached one) and never retries, so each
        check sees DingTalk's first answer."""
        transport = config.transport or AiohttpTransport(connect_timeout=config.timeout)
        version: Literal["v1", "v2"] = "v1" if config.api_version == "v1" else "v2"
        agent_id = config.agent_id.strip()
        client = DingTalkClient(
            app_key=config.app_key.strip(),
            app_secret=config.app_secret.strip(),
            corp_id=config.corp_id.strip() or None,
            agent_id=int(agent_id) if agent_id.isdigit() else None,
            api_version=version,
            endpoints=endpoints_for(config),
            transport=transport,
            token_store=MemoryTokenStore(),
            retry=RetryPolicy(max_attempts=1),
            timeout=config.timeout,
        )
        return cls(config, client, owns_transport=config.transport is None)

    async def aclose(self) -> None:
        if self.owns_transport:
            await self.client.transport.aclose()


def unreachable_text(config: DoctorConfig, exc: TransportError) -> tuple[Message, Message]:
    """(cause, fix) for a call that got no answer, through the forwarder or direct."""
    reason = exc.reason if exc.kind == "connect" else exc.kind
    if config.forwarded:
        where = config.forward_url or ""
        how = {
            "refused": Message("connection refused (nothing listens on that port)"),
            "dns": Message("its host name does not resolve"),
            "timeout": Message("the connection or the answer timed out"),
            "tls": Message("the TLS handshake failed"),
        }.get(reason or "", Message("it cannot be reached"))
        cause = Message(
            "The forward address %(where)s is unreachable: %(how)s.", where=where, how=how
        )
        fix = Message(
            "Is `dingbridge forward` (or the vendor guide's nginx) running on that machine, "
            "and port 888 open in its firewall? Check this server can reach that address, "
            "or correct the forward address."
        )
        return cause, fix
    if reason == "dns":
        cause = Message("DingTalk's host name does not resolve: this server has no working DNS.")
    elif reason == "timeout":
        cause = Message(
            "DingTalk unreachable or timing out: this server may have no Internet access."
        )
    elif reason == "tls":
        cause = Message(
            "TLS to DingTalk failed: check the system clock, the CA certificates, or a proxy "
            "that intercepts HTTPS."
        )
    else:
        cause = Message("DingTalk unreachable: this server cannot connect to it.")
    fix = Message(
        "Make sure this server can reach https://oapi.dingtalk.com and https://api.dingtalk.com "
        "(firewall, proxy, DNS); an intranet server should send its calls through a forwarder "
        "(`dingbridge forward`) set as the forward address."
    )
    return cause, fix
