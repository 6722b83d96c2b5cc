"""Async DingTalk (钉钉) client: both API generations, through one injectable transport.

Imports no web framework and no storage code. See docs/dingtalk-client.md.
"""

from dingbridge.dingtalk.api.contacts import Department
from dingbridge.dingtalk.api.jsapi import DdConfig, jsapi_signature
from dingbridge.dingtalk.api.messages import (
    SendProgress,
    SendResult,
    markdown_message,
    text_message,
)
from dingbridge.dingtalk.api.oauth import LoginIdentity, OAuthUser, SnsUser, UserToken
from dingbridge.dingtalk.api.users import UnionIdLookup, UserDetail, UserInfo
from dingbridge.dingtalk.callback_crypto import CallbackCrypto, CallbackCryptoError
from dingbridge.dingtalk.caller import RetryPolicy
from dingbridge.dingtalk.client import DingTalkClient
from dingbridge.dingtalk.endpoints import Endpoints, ForwardAddressError
from dingbridge.dingtalk.errors import (
    AuthCodeInvalid,
    DingTalkError,
    InvalidCredentials,
    IpNotWhitelisted,
    PermissionDenied,
    RateLimited,
    ServerBusy,
    TokenInvalid,
    TransportError,
    UnexpectedResponse,
    UserNotFound,
)
from dingbridge.dingtalk.pacing import NoPacing, Pacer, PacingRefused, QpsRetry
from dingbridge.dingtalk.token_cache import MemoryTokenStore, TokenStore
from dingbridge.dingtalk.transport import (
    AiohttpTransport,
    ASGITransport,
    HandlerTransport,
    Request,
    Response,
    Transport,
)

__all__ = [
    "ASGITransport",
    "AiohttpTransport",
    "AuthCodeInvalid",
    "CallbackCrypto",
    "CallbackCryptoError",
    "DdConfig",
    "Department",
    "DingTalkClient",
    "DingTalkError",
    "Endpoints",
    "ForwardAddressError",
    "HandlerTransport",
    "InvalidCredentials",
    "IpNotWhitelisted",
    "LoginIdentity",
    "MemoryTokenStore",
    "NoPacing",
    "OAuthUser",
    "Pacer",
    "PacingRefused",
    "PermissionDenied",
    "QpsRetry",
    "RateLimited",
    "Request",
    "Response",
    "RetryPolicy",
    "SendProgress",
    "SendResult",
    "ServerBusy",
    "SnsUser",
    "TokenInvalid",
    "TokenStore",
    "Transport",
    "TransportError",
    "UnexpectedResponse",
    "UnionIdLookup",
    "UserDetail",
    "UserInfo",
    "UserNotFound",
    "UserToken",
    "jsapi_signature",
    "markdown_message",
    "text_message",
]
