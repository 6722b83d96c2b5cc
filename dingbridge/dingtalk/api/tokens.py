"""App access tokens, both generations.

- v1: ``GET oapi /gettoken?appkey=&appsecret=`` → ``{access_token, expires_in}``
- v2: ``POST api /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` → ``{accessToken, expireIn}``

Either token works on both hosts. Cached per AppKey through :class:`TokenCache`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from dingbridge.dingtalk.caller import Caller
from dingbridge.dingtalk.errors import UnexpectedResponse
from dingbridge.dingtalk.token_cache import FetchedToken, TokenCache

__all__ = ["AppTokens", "app_token_key"]

ApiVersion = Literal["v1", "v2"]


def app_token_key(app_key: str) -> str:
    return f"dingtalk:app_token:{app_key}"


class AppTokens:
    def __init__(
        self,
        caller: Caller,
        cache: TokenCache,
        *,
        app_key: str,
        app_secret: str,
        api_version: ApiVersion = "v2",
    ) -> None:
        self._caller = caller
        self._cache = cache
        self._app_key = app_key
        self._app_secret = app_secret
        self.api_version = api_version

    async def gettoken(self) -> FetchedToken:
        """Uncached old-style fetch (``/gettoken``)."""
        data = await self._caller.oapi(
            "GET",
            "/gettoken",
            query={"appkey": self._app_key, "appsecret": self._app_secret},
            app_token=False,
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse("DingTalk /gettoken: no access_token", path="/gettoken")
        return FetchedToken(token, float(data.get("expires_in", 7200)))

    async def oauth2_access_token(self) -> FetchedToken:
        """Uncached new-style fetch (``/v1.0/oauth2/accessToken``)."""
        path = "/v1.0/oauth2/accessToken"
        data = await self._caller.api(
            "POST",
            path,
            json_body={"appKey": self._app_key, "appSecret": self._app_secret},
            token=None,
        )
        token = data.get("accessToken")
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse(f"DingTalk {path}: no accessToken", path=path)
        return FetchedToken(token, float(data.get("expireIn", 7200)))

    async def corp_token(self, corp_id: str) -> FetchedToken:
        """Uncached unified fetch ``POST /v1.0/oauth2/{corpId}/token``: an app
        token for ``corp_id``. DingTalk refuses it (``invalid.client``, ``unauthorized.client``,
        or ``unknownError`` for a corpId it does not know) when the app is not of that corp,
        which is how the doctor checks the CorpId setting."""
        path = f"/v1.0/oauth2/{quote(corp_id, safe='')}/token"
        data = await self._caller.api(
            "POST",
            path,
            json_body={
                "client_id": self._app_key,
                "client_secret": self._app_secret,
                "grant_type": "client_credentials",
            },
            token=None,
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse(f"DingTalk {path}: no access_token", path=path)
        return FetchedToken(token, float(data.get("expires_in", 7200)))

    async def fetch(self) -> FetchedToken:
        """Uncached fetch by the configured generation."""
        if self.api_version == "v1":
            return await self.gettoken()
        return await self.oauth2_access_token()

    async def app_token(self, *, force_refresh: bool = False) -> str:
        """The cached app token (fetched single-flight when missing or near expiry)."""
        return await self._cache.get(
            app_token_key(self._app_key), self.fetch, force_refresh=force_refresh
        )

    async def forget_app_token(self, token: str) -> None:
        await self._cache.invalidate(app_token_key(self._app_key), token)
