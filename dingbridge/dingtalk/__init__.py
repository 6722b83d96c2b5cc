"""Async DingTalk (钉钉) client: both API generations, through one injectable transport.

Imports no web framework and no storage code. See docs/dingtalk-client.md.
"""

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
    "DingTalkClient",
    "DingTalkError",
    "Endpoints",
    "ForwardAddressError",
    "HandlerTransport",
    "InvalidCredentials",
    "IpNotWhitelisted",
    "MemoryTokenStore",
    "PermissionDenied",
    "RateLimited",
    "Request",
    "Response",
    "RetryPolicy",
    "ServerBusy",
    "TokenInvalid",
    "TokenStore",
    "Transport",
    "TransportError",
    "UnexpectedResponse",
    "UserNotFound",
]
