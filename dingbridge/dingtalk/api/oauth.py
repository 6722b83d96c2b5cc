"""Browser sign-in: V2 OAuth 2.0 and the V1 SNS QR login.

V2: :meth:`OAuth.authorize_url` → browser comes back with ``authCode`` →
:meth:`OAuth.user_access_token` → :meth:`OAuth.users_me` (unionId) →
``users.getbyunionid`` (userid). V1: :meth:`OAuth.qrconnect_url` → ``code`` →
:meth:`OAuth.sns_userinfo_by_code` (unionid) → ``users.getbyunionid``.
:meth:`OAuth.identity_from_code` runs the whole chain for the configured generation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from dingbridge.dingtalk.api.envelope import required_str
from dingbridge.dingtalk.api.users import Users
from dingbridge.dingtalk.caller import Caller
from dingbridge.dingtalk.endpoints import Endpoints

__all__ = ["LoginIdentity", "OAuth", "OAuthUser", "SnsUser", "UserToken", "sns_signature"]


@dataclass(frozen=True)
class UserToken:
    access_token: str
    refresh_token: str | None
    expires_in: int
    corp_id: str | None

    def __repr__(self) -> str:  # tokens are secrets
        return f"UserToken(expires_in={self.expires_in}, corp_id={self.corp_id!r})"


@dataclass(frozen=True)
class OAuthUser:
    """``/v1.0/contact/users/me``: no userid here; absent fields are None."""

    union_id: str
    nick: str | None = None
    open_id: str | None = None
    avatar_url: str | None = None
    mobile: str | None = None
    state_code: str | None = None
    email: str | None = None
    visitor: bool = False


@dataclass(frozen=True)
class SnsUser:
    """V1 ``sns/getuserinfo_bycode`` ``user_info``."""

    unionid: str
    nick: str | None = None
    openid: str | None = None
    main_org_auth_high_level: bool = False


@dataclass(frozen=True)
class LoginIdentity:
    """The corp member behind a browser login code."""

    userid: str
    unionid: str
    nick: str | None
    mobile: str | None
    corp_id: str | None


def sns_signature(app_secret: str, timestamp: str) -> str:
    """V1 SNS signature, URL-encoded: base64(HMAC-SHA256(AppSecret, timestamp)) with every
    reserved character percent-encoded (``+``→%2B, ``/``→%2F, ``=``→%3D, ``~``→%7E)."""
    digest = hmac.new(app_secret.encode(), timestamp.encode(), hashlib.sha256).digest()
    raw = base64.b64encode(digest).decode("ascii")
    return quote(raw, safe="").replace("~", "%7E")


def _opt(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, "") else str(value)


class OAuth:
    def __init__(
        self,
        caller: Caller,
        *,
        endpoints: Endpoints,
        app_key: str,
        app_secret: str,
        users: Users,
        api_version: Literal["v1", "v2"] = "v2",
    ) -> None:
        self.api_version = api_version
        self._caller = caller
        self._endpoints = endpoints
        self._app_key = app_key
        self._app_secret = app_secret
        self._users = users

    # --- V2 ---------------------------------------------------------------------------
    def authorize_url(
        self,
        redirect_uri: str,
        *,
        state: str | None = None,
        scope: str = "openid",
        prompt: str = "consent",
        response_type: str = "code",
        org_type: str | None = None,
        corp_id: str | None = None,
        exclusive_login: bool | None = None,
        exclusive_corp_id: str | None = None,
    ) -> str:
        """``login.dingtalk.com/oauth2/auth`` URL. ``scope`` "openid" or "openid corpid";
        ``org_type``/``corp_id`` only with the corpid scope; ``exclusive_*`` for 专属账号."""
        params: list[tuple[str, str]] = [
            ("redirect_uri", redirect_uri),
            ("response_type", response_type),
            ("client_id", self._app_key),
            ("scope", scope),
        ]
        if state is not None:
            params.append(("state", state))
        params.append(("prompt", prompt))
        if org_type is not None:
            params.append(("org_type", org_type))
        if corp_id is not None:
            params.append(("corpId", corp_id))
        if exclusive_login is not None:
            params.append(("exclusiveLogin", "true" if exclusive_login else "false"))
        if exclusive_corp_id is not None:
            params.append(("exclusiveCorpId", exclusive_corp_id))
        return self._endpoints.login_url("/oauth2/auth") + "?" + urlencode(params, quote_via=quote)

    async def user_access_token(self, code: str) -> UserToken:
        """Exchange a browser ``authCode``. Consumes the code: never retried."""
        return await self._user_token(
            {"code": code, "grantType": "authorization_code"}, idempotent=False
        )

    async def refresh_user_token(self, refresh_token: str) -> UserToken:
        return await self._user_token(
            {"refreshToken": refresh_token, "grantType": "refresh_token"}, idempotent=False
        )

    async def _user_token(self, grant: dict[str, str], *, idempotent: bool) -> UserToken:
        path = "/v1.0/oauth2/userAccessToken"
        body = {"clientId": self._app_key, "clientSecret": self._app_secret, **grant}
        data = await self._caller.api(
            "POST", path, json_body=body, token=None, idempotent=idempotent
        )
        return UserToken(
            access_token=required_str(data, "accessToken", path),
            refresh_token=_opt(data, "refreshToken"),
            expires_in=int(data.get("expireIn", 7200)),
            corp_id=_opt(data, "corpId"),
        )

    async def users_me(self, user_token: str | UserToken, *, union_id: str = "me") -> OAuthUser:
        """``GET /v1.0/contact/users/{me|unionId}`` with the *user* token."""
        token = user_token.access_token if isinstance(user_token, UserToken) else user_token
        path = f"/v1.0/contact/users/{quote(union_id, safe='')}"
        data = await self._caller.api("GET", path, token=token)
        return OAuthUser(
            union_id=required_str(data, "unionId", path),
            nick=_opt(data, "nick"),
            open_id=_opt(data, "openId"),
            avatar_url=_opt(data, "avatarUrl"),
            mobile=_opt(data, "mobile"),
            state_code=_opt(data, "stateCode"),
            email=_opt(data, "email"),
            visitor=bool(data.get("visitor", False)),
        )

    # --- V1 (SNS) ---------------------------------------------------------------------
    def qrconnect_url(self, redirect_uri: str, *, state: str | None = None) -> str:
        """V1 ``oapi.dingtalk.com/connect/qrconnect`` URL (browser page, not forwarded)."""
        params: list[tuple[str, str]] = [
            ("appid", self._app_key),
            ("response_type", "code"),
            ("scope", "snsapi_login"),
        ]
        if state is not None:
            params.append(("state", state))
        params.append(("redirect_uri", redirect_uri))
        return (
            self._endpoints.oapi_browser_url("/connect/qrconnect")
            + "?"
            + urlencode(params, quote_via=quote)
        )

    async def sns_userinfo_by_code(
        self, tmp_auth_code: str, *, timestamp_ms: int | None = None
    ) -> SnsUser:
        """``sns/getuserinfo_bycode`` (signed with the AppSecret). Consumes the code."""
        path = "/sns/getuserinfo_bycode"
        timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        raw_query = (
            f"accessKey={quote(self._app_key, safe='')}&timestamp={timestamp}"
            f"&signature={sns_signature(self._app_secret, timestamp)}"
        )
        data = await self._caller.oapi(
            "POST",
            path,
            raw_query=raw_query,
            json_body={"tmp_auth_code": tmp_auth_code},
            app_token=False,
            idempotent=False,
        )
        info = data.get("user_info")
        info = info if isinstance(info, dict) else {}
        return SnsUser(
            unionid=required_str(info, "unionid", path),
            nick=_opt(info, "nick"),
            openid=_opt(info, "openid"),
            main_org_auth_high_level=bool(info.get("main_org_auth_high_level", False)),
        )

    # --- both -------------------------------------------------------------------------
    def login_url(
        self, redirect_uri: str, *, state: str, api_version: Literal["v1", "v2"] | None = None
    ) -> str:
        """The browser login URL of the client's generation (or ``api_version``)."""
        if (api_version or self.api_version) == "v1":
            return self.qrconnect_url(redirect_uri, state=state)
        return self.authorize_url(redirect_uri, state=state)

    async def identity_from_code(
        self, code: str, *, api_version: Literal["v1", "v2"] | None = None
    ) -> LoginIdentity:
        """Browser login code → the corp member (UserNotFound for people outside the corp).
        Uses the client's generation unless ``api_version`` says otherwise."""
        if (api_version or self.api_version) == "v1":
            sns = await self.sns_userinfo_by_code(code)
            found = await self._users.getbyunionid(sns.unionid)
            return LoginIdentity(found.userid, sns.unionid, sns.nick, None, None)
        token = await self.user_access_token(code)
        me = await self.users_me(token)
        found = await self._users.getbyunionid(me.union_id)
        return LoginIdentity(found.userid, me.union_id, me.nick, me.mobile, token.corp_id)
