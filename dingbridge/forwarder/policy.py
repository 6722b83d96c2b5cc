"""Caller authentication: an optional shared token header and an optional peer CIDR allowlist."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from dingbridge.forwarder.settings import TOKEN_HEADER, ForwarderSettings

TOKEN_HEADER_LOWER = TOKEN_HEADER.lower().encode("ascii")


class CallerPolicy:
    """Decides whether a caller may use the forwarder.

    The token is compared in constant time; the header is always stripped before forwarding.
    The allowlist checks the TCP peer address (not any header a caller could forge).
    """

    def __init__(self, settings: ForwarderSettings) -> None:
        token = settings.caller_token()
        self.token: bytes | None = token.encode("utf-8") if token else None
        self.networks = settings.networks()
        self._allowed = lru_cache(maxsize=1024)(self._peer_allowed_uncached)

    def peer_allowed(self, peer_ip: str | None) -> bool:
        if not self.networks:
            return True
        if peer_ip is None:
            return False
        return self._allowed(peer_ip)

    def _peer_allowed_uncached(self, peer_ip: str) -> bool:
        try:
            address = ipaddress.ip_address(peer_ip.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def token_ok(self, presented: bytes | None) -> bool:
        if self.token is None:
            return True
        if presented is None:
            return False
        return hmac.compare_digest(presented, self.token)
