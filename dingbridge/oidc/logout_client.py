"""The one outbound HTTP client of the OpenID provider: back-channel logout POSTs to apps.

Not a DingTalk call (those go through :mod:`dingbridge.dingtalk.transport`). Each POST has a
short timeout; the logout token never appears in a log line.
"""

from __future__ import annotations

import logging

import aiohttp

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0


class LogoutClient:
    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, uri: str, logout_token: str) -> bool:
        """POST ``logout_token`` to an app's back-channel logout URI; whether it said 2xx."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                uri,
                data={"logout_token": logout_token},
                headers={"Cache-Control": "no-store"},
                allow_redirects=False,
            ) as response:
                await response.read()
                ok = 200 <= response.status < 300
                log.info("back-channel logout to %s: HTTP %d", uri, response.status)
                return ok
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("back-channel logout to %s failed: %s", uri, type(exc).__name__)
            return False

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
